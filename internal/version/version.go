// Package version holds Sparrow's version, for the User-Agent of deliveries
// and the root package's Version.
package version

// Version is Sparrow's semantic version.
const Version = "0.1.0"

// UserAgent is the User-Agent header of every delivery.
const UserAgent = "Sparrow-Webhooks/" + Version + " (+https://github.com/sparrowhq/sparrow)"
