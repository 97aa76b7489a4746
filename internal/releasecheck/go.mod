// Module releasecheck is the release check run by .ci/run; it is not
// released.
module github.com/chatbot-go/chatbot/internal/releasecheck

go 1.26.0

require golang.org/x/mod v0.43.0
