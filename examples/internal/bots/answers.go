package bots

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// The questions the quickstart asks; [DemoAnswer] knows them.
const (
	FirstQuestion  = "What can you help me with?"
	SecondQuestion = "How do I continue this conversation?"
)

// DemoAnswer returns the scripted answer the built-in fake of provider gives to
// message: a fitting reply to the quickstart's questions and to a few
// keywords, else a reply that says it comes from a fake.
func DemoAnswer(provider, message string) string {
	how := "Userdesk streams raw text, so this reply came in word by word."
	switch provider {
	case "workspace":
		how = "This platform streams Server-Sent Events, so this reply came in word by word."
	case "stammer":
		how = "Stammer does not stream, so this reply arrived as one final chunk."
	case "sitegpt":
		how = "SiteGPT's REST API does not stream, so this reply arrived as one final chunk."
	case "chatbase":
		how = "Chatbase streams the AI SDK UI message stream, so this reply came in word by word and the conversation id with its last chunk."
	case "flowise":
		how = "Flowise streams its answer token by token, so this reply came in word by word."
	case "dify":
		how = "Dify streams Server-Sent Events, so this reply came in word by word."
	case "customgpt":
		how = "CustomGPT streams progress events, so this reply came in word by word."
	}
	m := strings.ToLower(message)
	switch {
	case strings.Contains(m, "help"):
		return "I can answer questions about your products, opening hours and orders, and hand you over to a human when needed. " + how
	case strings.Contains(m, "continue") || strings.Contains(m, "conversation"):
		return "Pass the ConversationID of my last reply back in your next chatbot.Request, as this program just did, and the conversation goes on."
	case hasWord(m, "hello", "hi", "hey"):
		return "Hello! Ask me anything about our shop. " + how
	}
	return fmt.Sprintf("You asked %q. I am the built-in %s fake, so I only have scripted answers, but this reply travelled exactly the way a real one does.", message, provider)
}

// hasWord reports whether the lowercase text s contains one of words as a
// whole word.
func hasWord(s string, words ...string) bool {
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) }) {
		if slices.Contains(words, f) {
			return true
		}
	}
	return false
}
