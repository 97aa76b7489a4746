module github.com/chatbot-go/chatbot/interop

go 1.25

require (
	github.com/chatbot-go/chatbot v0.0.0
	github.com/stretchr/testify v1.12.1
)

require go.yaml.in/yaml/v3 v3.0.5 // indirect

replace github.com/chatbot-go/chatbot => ../
