module github.com/chatbot-go/chatbot/resilience

go 1.24.0

require (
	github.com/chatbot-go/chatbot v0.1.0
	github.com/sony/gobreaker/v2 v2.4.0
	github.com/stretchr/testify v1.12.1
	golang.org/x/time v0.14.0
)

require (
	github.com/hashicorp/go-cleanhttp v0.5.2 // indirect
	github.com/hashicorp/go-retryablehttp v0.7.8 // indirect
	github.com/tmaxmax/go-sse v0.11.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
)

// For development in this repository; ignored by the modules that require
// this one.
replace github.com/chatbot-go/chatbot => ../
