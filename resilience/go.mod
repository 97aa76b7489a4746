module github.com/chatbot-go/chatbot/resilience

go 1.24

require github.com/chatbot-go/chatbot v0.0.0

replace github.com/chatbot-go/chatbot => ../
