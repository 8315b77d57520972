package workers_test

import (
	"context"
	"encoding/base64"

	"healthcode"
)

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

type healthcodeSMS = healthcode.SMSMessage

// senderFunc adapts a function to healthcode.SMSSender.
type senderFunc func(ctx context.Context, msg healthcode.SMSMessage) error

func (f senderFunc) Send(ctx context.Context, msg healthcode.SMSMessage) error { return f(ctx, msg) }
