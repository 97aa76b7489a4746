// Package interop checks package relay against real clients, in a module of
// its own so that the core module gains no dependency: the ai npm package
// (pinned in package.json and package-lock.json; run npm ci here first)
// reads the AI SDK format, and headless Chromium, driven with chromedp,
// runs the examples/relay page. Both need Debian's nodejs and chromium;
// .ci/run installs them.
package interop
