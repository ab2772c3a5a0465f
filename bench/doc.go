// Package bench holds the tools of make bench and make soak — a load generator, a fixed
// upstream that replays recorded answers, the recorder and the report — apart from the
// shipped code in cmd/ and internal/. Nothing here is part of the sidecar. The package itself
// holds the file formats one tool writes and another reads.
package bench
