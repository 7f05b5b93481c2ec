package vietqr_test

import (
	"testing"

	"github.com/egov-vn/gateway/connectors/bank/vietqr"
)

func TestCRC16CCITTFalse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want uint16
	}{
		{name: "catalogue check value", in: "123456789", want: 0x29B1},
		{name: "empty is the initial value", in: "", want: 0xFFFF},
		{name: "single A", in: "A", want: 0xB915},
		{name: "domain.md dynamic vector", in: vectorDynamic[:len(vectorDynamic)-4], want: 0x2E2E},
		{name: "domain.md static vector", in: vectorStatic[:len(vectorStatic)-4], want: 0xCBB4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := vietqr.CRC16CCITTFalse([]byte(tt.in)); got != tt.want {
				t.Fatalf("CRC16CCITTFalse(%q) = %04X, want %04X", tt.in, got, tt.want)
			}
		})
	}
}
