// Package hostile holds the test that sends the corpus of hostile requests in testdata/hostile
// to a live gateway (dev profile, embedded store) and checks that each gets its expected answer
// and changes nothing. It has no code of its own.
package hostile
