// Module releasecheck is the release check run by .ci/run; it is not
// released.
module github.com/chatbot-go/chatbot/internal/releasecheck

go 1.26.0

require (
	github.com/stretchr/testify v1.12.1
	golang.org/x/mod v0.43.0
)

require go.yaml.in/yaml/v3 v3.0.5 // indirect
