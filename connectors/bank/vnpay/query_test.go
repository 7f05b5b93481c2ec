package vnpay

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
)

var parseQueryCases = []string{
	"", "&", "&&a=1&", "a", "a=", "=", "=x", "a=1&a=2&b=3&a=4", "a=1;b=2&c=3", ";", "a=%zz&a=ok", "%zz=1&b=2",
	"vnp_OrderInfo=Thanh+toan+phi%20ho+so&vnp_TxnRef=ABC", "a=b=c", "k%3D=v%26", "a+b=c+d", "a=%E1%BA%A1&%FF=%FE", "%&;", "a=%zz&b;=1&c=%",
	strings.Repeat("a=1&", maxParsedParams) + "b=2",
}

// TestParseQuery: parseQuery gives url.ParseQuery's values and error.
func TestParseQuery(t *testing.T) {
	for _, raw := range parseQueryCases {
		checkParseQuery(t, raw)
	}
}

func FuzzParseQuery(f *testing.F) {
	for _, raw := range parseQueryCases {
		f.Add(raw)
	}
	f.Fuzz(checkParseQuery)
}

func checkParseQuery(t *testing.T, raw string) {
	want, werr := url.ParseQuery(raw)
	got, err := parseQuery(raw)
	if !reflect.DeepEqual(got, want) || (err == nil) != (werr == nil) || (err != nil && err.Error() != werr.Error()) {
		t.Fatalf("parseQuery(%.100q) = %v, %v; url.ParseQuery = %v, %v", raw, got, err, want, werr)
	}
	// Appending to one key's values must not touch another's.
	for k := range got {
		got[k] = append(got[k], "x")
	}
	for k, vs := range got {
		if vs[len(vs)-1] != "x" || !reflect.DeepEqual(vs[:len(vs)-1], want[k]) {
			t.Fatalf("parseQuery(%.100q): values of %q share storage: %v", raw, k, vs)
		}
	}
}

// TestParseQueryAllocations: an IPN's query is parsed in few allocations (url.ParseQuery makes
// one slice per parameter, 18 for this one).
func TestParseQueryAllocations(t *testing.T) {
	raw := benchIPN(t, "DEMOVNPAYSECRET0123456789ABCDEF")
	if n := testing.AllocsPerRun(100, func() { _, _ = parseQuery(raw) }); n > 6 {
		t.Errorf("parsing an IPN made %.0f allocations, want at most 6", n)
	}
}

func BenchmarkParseQuery(b *testing.B) {
	raw := benchIPN(b, "DEMOVNPAYSECRET0123456789ABCDEF")
	b.Run("parseQuery", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = parseQuery(raw)
		}
	})
	b.Run("url.ParseQuery", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = url.ParseQuery(raw)
		}
	})
}
