module github.com/chatbot-go/chatbot/redislimit

go 1.24.0

require (
	github.com/chatbot-go/chatbot v0.1.0
	github.com/chatbot-go/chatbot/resilience v0.1.0
	github.com/go-redis/redis_rate/v10 v10.0.1
	github.com/redis/go-redis/v9 v9.17.3
	github.com/stretchr/testify v1.12.1
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/dgryski/go-rendezvous v0.0.0-20200823014737-9f7001d12a5f // indirect
	github.com/hashicorp/go-cleanhttp v0.5.2 // indirect
	github.com/hashicorp/go-retryablehttp v0.7.8 // indirect
	github.com/sony/gobreaker/v2 v2.4.0 // indirect
	github.com/tmaxmax/go-sse v0.11.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/time v0.14.0 // indirect
)

// For development in this repository; ignored by the modules that require
// this one.
replace (
	github.com/chatbot-go/chatbot => ../
	github.com/chatbot-go/chatbot/resilience => ../resilience
)
