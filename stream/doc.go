// Package stream frames streamed HTTP response bodies: Server-Sent Events
// ([Events]) and raw chunked text ([Text]). It only frames; it knows nothing
// of any provider's payloads.
//
// Both functions return lazy, single-pass sequences over an [io.Reader]: they
// read only as the consumer iterates, stop reading when the consumer breaks,
// and report a read error once, as the last pair. They never close the reader.
package stream
