// sqlite-commits measures how many small write transactions per second one
// SQLite connection commits on this machine's disk, with the same driver
// (modernc.org/sqlite) the Temporal dev server uses. The benchmark divides it
// by the commits one order costs the server: the persistence limit (b).
//
//	sqlite-commits -file /tmp/x.sqlite -seconds 5 -pragma journal_mode=wal -pragma synchronous=full
//
// It prints one JSON object: {"commits":N,"seconds":S,"commitsPerSecond":R,"pragmas":[...]}.
package main

import (
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	_ "modernc.org/sqlite"
)

type pragmas []string

func (p *pragmas) String() string     { return strings.Join(*p, ",") }
func (p *pragmas) Set(v string) error { *p = append(*p, v); return nil }

func main() {
	file := flag.String("file", "", "database file to create (removed afterwards)")
	seconds := flag.Float64("seconds", 5, "how long to commit")
	rowBytes := flag.Int("row-bytes", 1024, "payload of each inserted row: about one workflow mutation")
	var ps pragmas
	flag.Var(&ps, "pragma", "PRAGMA name=value, repeatable (as the dev server's --sqlite-pragma)")
	flag.Parse()
	if *file == "" {
		fmt.Fprintln(os.Stderr, "-file is required")
		os.Exit(2)
	}
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		os.Remove(*file + suffix)
	}
	defer func() {
		for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
			os.Remove(*file + suffix)
		}
	}()

	db, err := sql.Open("sqlite", *file)
	check(err)
	db.SetMaxOpenConns(1) // SQLite has one writer at a time; so does the dev server
	for _, p := range ps {
		kv := strings.SplitN(p, "=", 2)
		if len(kv) != 2 {
			check(fmt.Errorf("pragma %q is not name=value", p))
		}
		_, err := db.Exec(fmt.Sprintf("PRAGMA %s = %s", kv[0], kv[1]))
		check(err)
	}
	_, err = db.Exec(`CREATE TABLE mutations (id INTEGER PRIMARY KEY, shard INTEGER, payload BLOB);
		CREATE TABLE shards (id INTEGER PRIMARY KEY, range_id INTEGER);
		INSERT INTO shards VALUES (1, 0);`)
	check(err)

	payload := make([]byte, *rowBytes)
	deadline := time.Now().Add(time.Duration(*seconds * float64(time.Second)))
	started := time.Now()
	commits := 0
	// one commit = what a persistence write does: a row written and the shard row checked, in one transaction
	for time.Now().Before(deadline) {
		tx, err := db.Begin()
		check(err)
		_, err = tx.Exec(`INSERT INTO mutations (shard, payload) VALUES (1, ?)`, payload)
		check(err)
		_, err = tx.Exec(`UPDATE shards SET range_id = range_id + 1 WHERE id = 1`)
		check(err)
		check(tx.Commit())
		commits++
	}
	elapsed := time.Since(started).Seconds()
	out, _ := json.Marshal(map[string]any{"commits": commits, "seconds": elapsed, "commitsPerSecond": float64(commits) / elapsed, "pragmas": []string(ps)})
	fmt.Println(string(out))
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "sqlite-commits:", err)
		os.Exit(1)
	}
}
