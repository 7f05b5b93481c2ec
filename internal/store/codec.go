package store

import (
	"encoding/json"
	"fmt"

	"github.com/ThreeDotsLabs/watermill/message"
)

// Stream entry fields written by Codec.
const (
	FieldUUID     = "uuid"
	FieldPayload  = "payload"
	FieldMetadata = "metadata"
)

// MetaUnreadable is set on a message whose stream entry could not be decoded; routing
// dead-letters such a message instead of letting the subscriber stop (watermill-redisstream ends
// a subscription on an unmarshal error).
const MetaUnreadable = "x-unreadable"

// Codec is the stream entry format of every message: the UUID, the payload, and the metadata as
// JSON (readable with redis-cli, unlike the library's default msgpack). It implements
// redisstream.MarshallerUnmarshaller.
type Codec struct{}

// Marshal encodes a message into stream fields.
func (Codec) Marshal(_ string, msg *message.Message) (map[string]any, error) {
	return EncodeFields(msg.UUID, msg.Payload, msg.Metadata)
}

// EncodeFields encodes the parts of a message into stream fields.
func EncodeFields(uuid string, payload []byte, md message.Metadata) (map[string]any, error) {
	raw, err := json.Marshal(md)
	if err != nil {
		return nil, fmt.Errorf("encoding metadata: %w", err)
	}
	return map[string]any{FieldUUID: uuid, FieldPayload: payload, FieldMetadata: raw}, nil
}

// Unmarshal decodes stream fields. It never fails: an unreadable entry becomes a message marked
// MetaUnreadable so that it is dead-lettered and the subscription goes on.
func (Codec) Unmarshal(values map[string]any) (*message.Message, error) {
	uuid, _ := values[FieldUUID].(string)
	payload, _ := values[FieldPayload].(string)
	msg := message.NewMessage(uuid, []byte(payload))
	if uuid == "" {
		msg.UUID = "unreadable"
		msg.Metadata.Set(MetaUnreadable, "missing uuid field")
		return msg, nil
	}
	if raw, ok := values[FieldMetadata].(string); ok && raw != "" && raw != "null" {
		if err := json.Unmarshal([]byte(raw), &msg.Metadata); err != nil {
			msg.Metadata = message.Metadata{MetaUnreadable: "metadata is not a JSON object"}
		}
	}
	return msg, nil
}
