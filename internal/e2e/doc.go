// Package e2e holds the end-to-end tests that drive the product through a real browser
// (Debian's Chromium, headless, through chromedp).
package e2e
