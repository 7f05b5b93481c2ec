package vietqr_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/egov-vn/gateway/connectors/bank/vietqr"
)

func TestEncodeTLV(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		fields  []vietqr.TLV
		want    string
		wantErr string
	}{
		{name: "two fields", fields: []vietqr.TLV{{ID: "00", Value: "01"}, {ID: "58", Value: "VN"}}, want: "0002015802VN"},
		{name: "empty value kept", fields: []vietqr.TLV{{ID: "62", Value: ""}}, want: "6200"},
		{name: "longest value", fields: []vietqr.TLV{{ID: "59", Value: strings.Repeat("x", 99)}}, want: "5999" + strings.Repeat("x", 99)},
		{name: "nothing", fields: nil, want: ""},
		{name: "value too long", fields: []vietqr.TLV{{ID: "59", Value: strings.Repeat("x", 100)}}, wantErr: "at most 99"},
		{name: "one digit id", fields: []vietqr.TLV{{ID: "5", Value: "x"}}, wantErr: "not two digits"},
		{name: "letter id", fields: []vietqr.TLV{{ID: "5A", Value: "x"}}, wantErr: "not two digits"},
		{name: "non ascii value", fields: []vietqr.TLV{{ID: "08", Value: "Lệ phí"}}, wantErr: "printable ASCII"},
		{name: "control character", fields: []vietqr.TLV{{ID: "08", Value: "a\nb"}}, wantErr: "printable ASCII"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := vietqr.EncodeTLV(tt.fields...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("EncodeTLV error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("EncodeTLV: %v", err)
			}
			if got != tt.want {
				t.Fatalf("EncodeTLV = %q, want %q", got, tt.want)
			}
			back, err := vietqr.DecodeTLV(got)
			if err != nil {
				t.Fatalf("DecodeTLV of encoded: %v", err)
			}
			if !slices.Equal(back, tt.fields) && !(len(back) == 0 && len(tt.fields) == 0) {
				t.Fatalf("round trip = %v, want %v", back, tt.fields)
			}
		})
	}
}

func TestDecodeTLV(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    []vietqr.TLV
		wantErr string
	}{
		{name: "nested value kept raw", in: "38140010A000000727", want: []vietqr.TLV{{ID: "38", Value: "0010A000000727"}}},
		{name: "empty input", in: "", want: nil},
		{name: "truncated header", in: "000201580", wantErr: "offset 6"},
		{name: "value shorter than announced", in: "0002015805VN", wantErr: "announces 5 characters, 2 left"},
		{name: "letters in length", in: "00x201", wantErr: `length "x2"`},
		{name: "letters in id", in: "AB0201", wantErr: `id "AB"`},
		{name: "non ascii", in: "0802é", wantErr: "printable ASCII"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := vietqr.DecodeTLV(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("DecodeTLV error = %v, want one containing %q", err, tt.wantErr)
				}
				if !errors.Is(err, vietqr.ErrMalformed) {
					t.Fatalf("error does not wrap ErrMalformed: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeTLV: %v", err)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("DecodeTLV = %v, want %v", got, tt.want)
			}
		})
	}
}
