// Package ndjson reads newline-delimited JSON uploads (one JSON object per
// line), the wire format of the scanners' offline uploads (server) and of
// the city sub-systems' pushes (exchange): lines bounded in bytes, uploads
// bounded in records, blank lines skipped, each line decoded strictly.
package ndjson

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"

	"healthcode"
)

// Errors of Read that the caller words for its upload (an upload of scans
// and a push of records say it differently).
var (
	// ErrTooMany: more than maxRecords non-blank lines.
	ErrTooMany = errors.New("ndjson: too many records")
	// ErrEmpty: no non-blank line.
	ErrEmpty = errors.New("ndjson: no records")
)

// ErrTrailingData is Decode's error for a line with more than one JSON value.
var ErrTrailingData = errors.New("trailing data")

// Read calls fn for every non-blank line of r with its number (from 1) and
// its bytes, trimmed of surrounding white space; b is valid only during the
// call. Lines longer than maxLine bytes and uploads of more than maxRecords
// non-blank lines are refused. The scan upload and the sub-system push call
// it; any caller may.
// Errors: ErrTooMany, ErrEmpty, INVALID naming the line that is longer than
// maxLine bytes or cannot be read, and the first error fn returns (Read then
// stops).
func Read(r io.Reader, maxLine, maxRecords int, fn func(line int, b []byte) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, min(maxLine, 4096)), maxLine)
	line, records := 0, 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if records == maxRecords {
			return ErrTooMany
		}
		records++
		if err := fn(line, b); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return healthcode.Errorf(healthcode.EINVALID, "第 %d 行超过 %d 字节或无法读取", line+1, maxLine)
	}
	if records == 0 {
		return ErrEmpty
	}
	return nil
}

// Decode decodes one line into v strictly: unknown fields are an error, and
// so is anything after the first value (ErrTrailingData). Any caller may.
// Errors: those of encoding/json, ErrTrailingData.
func Decode(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return ErrTrailingData
	}
	return nil
}
