package store

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"
)

// TestEncodeMetadataIsJSONMarshal: the hand-written metadata encoding is byte for byte what
// json.Marshal wrote before, for the metadata messages carry and for awkward keys and values.
func TestEncodeMetadataIsJSONMarshal(t *testing.T) {
	for _, md := range []message.Metadata{
		nil,
		{},
		{"type": "vn.gov.dossier.status_changed", "source": "/onestop", "event_id": "e-1", "subject": "000.00.37.H37-251126-0001",
			"client": "onestop", "received_at": "2026-11-26T08:00:00.123Z", "correlation_id": "01J..."},
		{"last_error": "transient: <html> & \"quoted\" \\ \n\t\u2028 \xff", "": "empty key", "Ä": "é", "a": "", "B": "upper first"},
	} {
		want, err := json.Marshal(md)
		if err != nil {
			t.Fatal(err)
		}
		if got := encodeMetadata(md); !bytes.Equal(got, want) {
			t.Errorf("encodeMetadata(%q)\n got %s\nwant %s", md, got, want)
		}
	}
}

// FuzzEncodeMetadata compares the encoding with json.Marshal for any pair of entries.
func FuzzEncodeMetadata(f *testing.F) {
	f.Add("type", "vn.gov.delivery.requested", "last_error", "<&>\"\\\x00\xff\u2029")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		md := message.Metadata{k1: v1, k2: v2}
		want, _ := json.Marshal(md)
		if got := encodeMetadata(md); !bytes.Equal(got, want) {
			t.Fatalf("encodeMetadata(%q)\n got %s\nwant %s", md, got, want)
		}
	})
}

func BenchmarkEncodeMetadata(b *testing.B) {
	md := message.Metadata{"type": "vn.gov.dossier.status_changed", "source": "/onestop", "event_id": "e-1",
		"subject": "000.00.37.H37-251126-0001", "client": "onestop", "received_at": "2026-11-26T08:00:00.123Z", "correlation_id": "01JDX"}
	b.Run("hand", func(b *testing.B) {
		for b.Loop() {
			encodeMetadata(md)
		}
	})
	b.Run("json.Marshal", func(b *testing.B) {
		for b.Loop() {
			_, _ = json.Marshal(md)
		}
	})
}
