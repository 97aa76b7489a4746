// Module faults holds redislimit's fault-injection tests; it is not released.
module github.com/chatbot-go/chatbot/redislimit/internal/faults

go 1.24.0

require (
	github.com/Shopify/toxiproxy/v2 v2.5.0
	github.com/chatbot-go/chatbot v0.1.0
	github.com/chatbot-go/chatbot/redislimit v0.1.0
	github.com/chatbot-go/chatbot/resilience v0.1.0
	github.com/prometheus/client_golang v1.13.0
	github.com/redis/go-redis/v9 v9.17.3
	github.com/rs/zerolog v1.28.0
	github.com/stretchr/testify v1.12.1
	go.uber.org/goleak v1.3.0
)

require (
	github.com/beorn7/perks v1.0.1 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/dgryski/go-rendezvous v0.0.0-20200823014737-9f7001d12a5f // indirect
	github.com/go-redis/redis_rate/v10 v10.0.1 // indirect
	github.com/golang/protobuf v1.5.2 // indirect
	github.com/gorilla/mux v1.8.0 // indirect
	github.com/mattn/go-colorable v0.1.13 // indirect
	github.com/mattn/go-isatty v0.0.16 // indirect
	github.com/matttproud/golang_protobuf_extensions v1.0.1 // indirect
	github.com/prometheus/client_model v0.2.0 // indirect
	github.com/prometheus/common v0.37.0 // indirect
	github.com/prometheus/procfs v0.8.0 // indirect
	github.com/rs/xid v1.4.0 // indirect
	github.com/sony/gobreaker/v2 v2.4.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/sys v0.0.0-20220909162455-aba9fc2a8ff2 // indirect
	golang.org/x/time v0.14.0 // indirect
	google.golang.org/protobuf v1.28.1 // indirect
	gopkg.in/tomb.v1 v1.0.0-20141024135613-dd632973f1e7 // indirect
)

replace (
	github.com/chatbot-go/chatbot => ../../../
	github.com/chatbot-go/chatbot/redislimit => ../../
	github.com/chatbot-go/chatbot/resilience => ../../../resilience
)
