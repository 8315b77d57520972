package ndjson_test

import (
	"errors"
	"strings"
	"testing"

	"healthcode"
	"healthcode/ndjson"
)

func TestRead(t *testing.T) {
	t.Parallel()
	var lines []int
	err := ndjson.Read(strings.NewReader("{\"a\":1}\n\n  \n {\"a\":2} \n"), 16, 2, func(n int, b []byte) error {
		if b[0] != '{' || b[len(b)-1] != '}' {
			t.Errorf("line %d not trimmed: %q", n, b)
		}
		lines = append(lines, n)
		return nil
	})
	if err != nil || len(lines) != 2 || lines[0] != 1 || lines[1] != 4 {
		t.Fatalf("lines %v, err %v; want [1 4], nil", lines, err)
	}
	stop := errors.New("stop")
	for name, c := range map[string]struct {
		in   string
		want error
		code string
	}{
		"too many":   {in: "{}\n{}\n{}", want: ndjson.ErrTooMany},
		"empty":      {in: "\n \n", want: ndjson.ErrEmpty},
		"too long":   {in: "{}\n" + strings.Repeat("x", 17), code: healthcode.EINVALID},
		"fn's error": {in: "{}", want: stop},
	} {
		err := ndjson.Read(strings.NewReader(c.in), 16, 2, func(int, []byte) error {
			if c.want == stop {
				return stop
			}
			return nil
		})
		if c.want != nil && !errors.Is(err, c.want) || c.code != "" && healthcode.ErrorCode(err) != c.code {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if msg := healthcode.ErrorMessage(ndjson.Read(strings.NewReader("{}\n"+strings.Repeat("x", 17)), 16, 5,
		func(int, []byte) error { return nil })); msg != "第 2 行超过 16 字节或无法读取" {
		t.Errorf("too long: message %q", msg)
	}
}

func TestDecode(t *testing.T) {
	t.Parallel()
	var v struct{ A int }
	if err := ndjson.Decode([]byte(`{"A":1}`), &v); err != nil || v.A != 1 {
		t.Fatalf("got %+v, %v", v, err)
	}
	if err := ndjson.Decode([]byte(`{"A":1} {"A":2}`), &v); !errors.Is(err, ndjson.ErrTrailingData) {
		t.Errorf("two values: err = %v", err)
	}
	if err := ndjson.Decode([]byte(`{"B":1}`), &v); err == nil {
		t.Error("unknown field accepted")
	}
}
