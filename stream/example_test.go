package stream_test

import (
	"fmt"
	"strings"
	"testing/iotest"

	"github.com/chatbot-go/chatbot/stream"
)

func ExampleEvents() {
	body := strings.NewReader(": keep-alive\r\n\r\n" +
		"event: token\r\ndata: Hel\r\n\r\n" +
		"event: token\r\ndata: lo\r\n\r\n" +
		"event: end\r\n\r\n")
	for ev, err := range stream.Events(body) {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		fmt.Printf("%s %q\n", ev.Type, ev.Data)
	}
	// Output:
	// token "Hel"
	// token "lo"
	// end ""
}

func ExampleText() {
	// One byte per read, as a slow connection might deliver it: the
	// two-byte "é" and the four-byte emoji still arrive whole.
	body := iotest.OneByteReader(strings.NewReader("Olé 👋"))
	var pieces []string
	for s, err := range stream.Text(body) {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		pieces = append(pieces, s)
	}
	fmt.Printf("%q\n", pieces)
	// Output:
	// ["O" "l" "é" " " "👋"]
}
