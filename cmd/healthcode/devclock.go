package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// devClockFile is where `healthcode dev` mirrors its clock in the data
// directory, for the offline verifier (`healthcode verify` run with the same
// HEALTHCODE_DATA_DIR). The clock itself is kept in the database
// (postgres.DevClock); this file only follows it.
const devClockFile = "devclock.json"

type devClockState struct {
	// OffsetMicroseconds is how far the dev clock runs ahead of the wall
	// clock.
	OffsetMicroseconds int64 `json:"offsetMicroseconds"`
	// Now is the dev clock's time when the file was written (for people).
	Now time.Time `json:"now"`
}

// writeDevClock writes the dev clock's offset into dir (atomically).
func writeDevClock(dir string, offset time.Duration) error {
	b, _ := json.Marshal(devClockState{OffsetMicroseconds: offset.Microseconds(), Now: time.Now().Add(offset).UTC().Truncate(time.Second)})
	tmp := filepath.Join(dir, "."+devClockFile+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write the dev clock: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, devClockFile)); err != nil {
		return fmt.Errorf("write the dev clock: %w", err)
	}
	return nil
}

// readDevClock reads the offset `healthcode dev` left in dir; ok is false
// when there is none.
func readDevClock(dir string) (offset time.Duration, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(dir, devClockFile))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	} else if err != nil {
		return 0, false, err
	}
	var st devClockState
	if err := json.Unmarshal(b, &st); err != nil {
		return 0, false, fmt.Errorf("%s: %w", filepath.Join(dir, devClockFile), err)
	}
	return time.Duration(st.OffsetMicroseconds) * time.Microsecond, true, nil
}
