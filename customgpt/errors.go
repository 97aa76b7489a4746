package customgpt

import (
	"errors"
	"fmt"
)

// ConversationError is the error of a message that failed after the SDK
// created a conversation for it (a [chatbot.Request] without a
// ConversationID): SessionID names that conversation, so that the caller
// can send to it again or delete it ([Client.DeleteConversation]) rather
// than leave it behind unknown. It wraps the message's error:
// errors.Is(err, chatbot.ErrQuotaExceeded) and errors.As(err, &apiErr) see
// through it.
type ConversationError struct {
	// SessionID is the session id of the conversation created.
	SessionID string
	// Err is why the message failed.
	Err error
}

// Error names the conversation and the message's error.
func (e *ConversationError) Error() string {
	return fmt.Sprintf("%s: conversation %s was created, then its first message failed: %v", provider, e.SessionID, e.Err)
}

// Unwrap returns the message's error.
func (e *ConversationError) Unwrap() error { return e.Err }

// errNoSession is the error of a conversation created without a session id
// in the answer.
func errNoSession(cause error) error {
	if cause == nil {
		cause = errors.New("no session_id in the answer")
	}
	return fmt.Errorf("%s: creating a conversation: %w", provider, cause)
}
