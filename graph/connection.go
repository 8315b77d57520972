package graph

import (
	"encoding/base64"
	"strconv"
	"strings"

	"healthcode"
	"healthcode/graph/model"
)

// Page sizes of every list: `first` defaults to DefaultFirst and is capped
// at MaxFirst.
const (
	DefaultFirst = 20
	MaxFirst     = 100
)

func pageSize(first *int) (int, error) {
	if first == nil {
		return DefaultFirst, nil
	}
	if *first < 1 || *first > MaxFirst {
		return 0, healthcode.Errorf(healthcode.EINVALID, "first 须在 1 到 %d 之间", MaxFirst)
	}
	return *first, nil
}

// Cursors are opaque to clients: base64url of "<kind>:<key>".
func encodeCursor(kind, key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + key))
}

func decodeCursor(kind string, cursor *string) (string, error) {
	if cursor == nil || *cursor == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(*cursor)
	key, ok := strings.CutPrefix(string(b), kind+":")
	if err != nil || !ok || key == "" {
		return "", healthcode.Errorf(healthcode.EINVALID, "分页游标无效")
	}
	return key, nil
}

func decodeIDCursor(kind string, cursor *string) (int64, error) {
	key, err := decodeCursor(kind, cursor)
	if err != nil || key == "" {
		return 0, err
	}
	n, err := strconv.ParseInt(key, 10, 64)
	if err != nil || n <= 0 {
		return 0, healthcode.Errorf(healthcode.EINVALID, "分页游标无效")
	}
	return n, nil
}

// idPage reads the arguments of a list paged by id: the page size and the
// id after which it starts (0 for the first page). Errors: INVALID.
func idPage(kind string, first *int, after *string) (int, int64, error) {
	n, err := pageSize(first)
	if err != nil {
		return 0, 0, err
	}
	cur, err := decodeIDCursor(kind, after)
	if err != nil {
		return 0, 0, err
	}
	return n, cur, nil
}

func pageInfo(more bool, last string) *model.PageInfo {
	p := &model.PageInfo{HasNextPage: more}
	if last != "" {
		p.EndCursor = &last
	}
	return p
}

// connection builds the edges and page info of a Relay connection from one
// page of nodes: cursor gives a node's cursor, edge wraps it.
func connection[N any, E any](nodes []N, more bool, cursor func(N) string, edge func(string, N) E) ([]E, *model.PageInfo) {
	edges := make([]E, len(nodes))
	last := ""
	for i, n := range nodes {
		last = cursor(n)
		edges[i] = edge(last, n)
	}
	return edges, pageInfo(more, last)
}
