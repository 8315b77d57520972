// Package migrations holds the numbered, embedded SQL migrations of the
// platform's PostgreSQL schema and the reference data they load (the NBS
// region tree of Shaanxi and the 2020 census populations), and runs them with
// golang-migrate.
package migrations

//go:generate go run gen_regions.go

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/golang-migrate/migrate/v4"
	_ "github.com/golang-migrate/migrate/v4/database/pgx/v5" // the pgx5:// driver
	"github.com/golang-migrate/migrate/v4/source/iofs"
)

//go:embed *.sql
var files embed.FS

//go:embed data/city-population-2020.csv
var populationCSV []byte

// PopulationCSV returns the 7th-census resident population per city
// (code,name,resident_population), the denominator of code coverage.
func PopulationCSV() []byte { return populationCSV }

// Status is the state of a database's schema.
type Status struct {
	Version uint // the last applied migration, 0 for none
	Dirty   bool // a migration failed half-way and needs attention
	Latest  uint // the newest migration embedded in this binary
	Pending []uint
}

func newMigrate(databaseURL string) (*migrate.Migrate, error) {
	src, err := iofs.New(files, ".")
	if err != nil {
		return nil, fmt.Errorf("open embedded migrations: %w", err)
	}
	u, err := url.Parse(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	u.Scheme = "pgx5"
	m, err := migrate.NewWithSourceInstance("iofs", src, u.String())
	if err != nil {
		return nil, fmt.Errorf("connect for migrations: %w", err)
	}
	return m, nil
}

// Up applies every pending migration. Only operators (the CLI, dev mode and
// test harnesses) call it.
func Up(databaseURL string) error {
	m, err := newMigrate(databaseURL)
	if err != nil {
		return err
	}
	defer m.Close()
	if err := m.Up(); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return fmt.Errorf("migrate up: %w", err)
	}
	return nil
}

// Down reverts the last n migrations (all of them when n <= 0). Only
// operators call it.
func Down(databaseURL string, n int) error {
	m, err := newMigrate(databaseURL)
	if err != nil {
		return err
	}
	defer m.Close()
	if n <= 0 {
		err = m.Down()
	} else {
		err = m.Steps(-n)
	}
	if err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return fmt.Errorf("migrate down: %w", err)
	}
	return nil
}

// GetStatus reports the applied and pending migrations.
func GetStatus(databaseURL string) (Status, error) {
	m, err := newMigrate(databaseURL)
	if err != nil {
		return Status{}, err
	}
	defer m.Close()
	var st Status
	v, dirty, err := m.Version()
	if err != nil && !errors.Is(err, migrate.ErrNilVersion) {
		return Status{}, fmt.Errorf("read schema version: %w", err)
	}
	st.Version, st.Dirty = v, dirty
	for _, n := range Versions() {
		st.Latest = n
		if n > st.Version {
			st.Pending = append(st.Pending, n)
		}
	}
	return st, nil
}

// Versions lists the embedded migration versions in order.
func Versions() []uint {
	entries, _ := fs.Glob(files, "*.up.sql")
	var out []uint
	for _, e := range entries {
		n, err := strconv.ParseUint(strings.SplitN(e, "_", 2)[0], 10, 32)
		if err == nil {
			out = append(out, uint(n))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Fingerprint returns a short hash-like string that changes whenever the set
// of embedded migrations changes; test harnesses name template databases by it.
func Fingerprint() string {
	entries, _ := fs.Glob(files, "*.sql")
	var h uint64 = 1469598103934665603
	for _, e := range entries {
		b, _ := files.ReadFile(e)
		for _, c := range append([]byte(e), b...) {
			h ^= uint64(c)
			h *= 1099511628211
		}
	}
	return strconv.FormatUint(h, 36)
}
