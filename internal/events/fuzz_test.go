package events

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// The walk (walk.go) defines the contract; the one-pass decoder must agree with it on every
// input: accept only what the walk accepts, with the same event. Run longer with
//
//	go test ./internal/events -run '^$' -fuzz FuzzParseAgrees -fuzztime 5m

func FuzzParseAgrees(f *testing.F) {
	for _, s := range seedEvents(f) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		checkParseAgrees(t, raw)
	})
}

func FuzzParseBatchAgrees(f *testing.F) {
	seeds := seedEvents(f)
	f.Add([]byte(`[` + statusJSON + `]`))
	f.Add([]byte(" [" + deliveryJSON + "\n,\t" + minimalStatusJSON + ", 1, null ,{}]\u00a0"))
	f.Add([]byte(`[` + statusJSON + `,` + deliveryJSON + `,]`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`[` + strings.Repeat(`{},`, MaxBatch) + `{}]`))
	f.Add([]byte(`[` + strings.Repeat(`{},`, MaxBatch-1) + `{}]`))
	for i := 0; i+2 < len(seeds); i += 3 {
		f.Add([]byte(`[` + seeds[i] + `,` + seeds[i+1] + `,` + seeds[i+2] + `]`))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		want, wantErrs, wantErr := parseBatchWalk(bytes.Clone(raw))
		got, gotErrs, gotErr := ParseBatch(raw)
		if !reflect.DeepEqual(gotErr, wantErr) || !reflect.DeepEqual(gotErrs, wantErrs) {
			t.Fatalf("ParseBatch(%q) errors\n%v, %v\nthe walk's\n%v, %v", raw, gotErrs, gotErr, wantErrs, wantErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("ParseBatch(%q) events differ from the walk's", raw)
		}
	})
}

// checkParseAgrees compares the one-pass decoder and Parse with the walk on raw.
func checkParseAgrees(t *testing.T, raw []byte) {
	t.Helper()
	want, wantErr := parseWalk(bytes.Clone(raw), "[3]")
	if fast := parseFast(raw); fast != nil {
		if wantErr != nil {
			t.Fatalf("the decoder accepts %q, which the walk refuses: %v", raw, wantErr)
		}
		if !reflect.DeepEqual(fast, want) {
			t.Fatalf("the decoder reads %q as\n%s\nthe walk as\n%s", raw, describe(fast), describe(want))
		}
	}
	got, err := Parse(raw, "[3]")
	if !reflect.DeepEqual(err, wantErr) {
		t.Fatalf("Parse(%q) error\n%v\nthe walk's\n%v", raw, err, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Parse(%q) =\n%s\nthe walk's\n%s", raw, describe(got), describe(want))
	}
}

// seedEvents are the inputs of the tables, loadgen events, and a few shapes of their own.
func seedEvents(t testing.TB) []string {
	var out []string
	for _, c := range validCases(t) {
		out = append(out, c.in)
	}
	for _, c := range invalidCases(t) {
		out = append(out, c.in)
	}
	out = append(out,
		string(loadgenEvent(1)), string(loadgenEvent(999)), string(vietnameseEvent()),
		// data before type, and types that change after data.
		sub(t, statusJSON, `"type":"vn.gov.dossier.status_changed",`, ``, `"data":{`, `"type":"vn.gov.dossier.status_changed","data":{`),
		sub(t, statusJSON, `}}}`, `}},"type":"vn.gov.delivery.requested"}`),
		sub(t, deliveryJSON, `"type":"vn.gov.delivery.requested",`, ``, `"Gọi trước"}}`, `"Gọi trước"}, "type":"vn.gov.delivery.requested"}`),
		sub(t, deliveryJSON, `"type":"vn.gov.delivery.requested",`, `"type":"x",`, `"Gọi trước"}}`, `"Gọi trước"}, "type":"vn.gov.delivery.requested"}`),
		sub(t, statusJSON, `}}}`, `}},"data":null}`),
		sub(t, statusJSON, `"subject":"000.00.37.H32-251126-0001",`, ``, `}}}`, `}},"subject":"000.00.37.H32-251126-0001"}`),
		sub(t, statusJSON, `"extension":{`, `"extension":`+strings.Repeat("[", 600)+strings.Repeat("]", 600)+`,"x":{`),
		sub(t, statusJSON, `"version":3`, `"version":123456789012345678`),
		sub(t, statusJSON, `"version":3`, `"version":1234567890123456789`),
		sub(t, statusJSON, `"version":3`, `"version":-`),
		sub(t, statusJSON, `"version":3`, `"version":1.`),
		sub(t, statusJSON, `"version":3`, `"version":1e`),
		sub(t, statusJSON, `"version":3`, `"version":nul`),
		sub(t, statusJSON, `"ChuHoSo":"Nguyễn Văn A"`, `"ChuHoSo":"\u12"`),
		sub(t, statusJSON, `"ChuHoSo":"Nguyễn Văn A"`, `"ChuHoSo":"\ud83d\u0000"`),
		sub(t, statusJSON, `"ChuHoSo":"Nguyễn Văn A"`, "\"Chu\\u0048oSo\":\"\xf0\x9f\x98\"", `"MaTTHC"`, "\"Ma\xffTTHC\":1,\"MaTTHC\""),
		`{"a":1}`, `{"a":[1,{"b":{}}]}`, `{"a" 1}`, `{"a":1 "b":2}`, `{"a":tru}`, `{"a":"\`, `{"a`, `{`, `{"data":{"dossier":`,
	)
	return out
}
