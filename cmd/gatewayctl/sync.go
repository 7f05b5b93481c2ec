package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// syncCmd runs the status reconciliation with the portal and the bulk re-sync:
//
//	sync verify [-date D] [-stored]            run (or print) the day's drift report
//	sync replay -since T | -dossiers FILE [-wait] [-actor A]
//	sync replay -job ID                        a job's progress
func syncCmd(c client, args []string, stderr io.Writer) error {
	if len(args) == 0 {
		return errUsage
	}
	switch args[0] {
	case "verify":
		path, stored, err := dayReport("sync verify", "/admin/v1/sync/drift/", "check nothing", args[1:], stderr)
		if err != nil {
			return err
		}
		if stored {
			return c.get(path)
		}
		return verifyDay(c, path, stderr)
	case "replay":
		fs := flag.NewFlagSet("sync replay", flag.ContinueOnError)
		fs.SetOutput(stderr)
		since := fs.String("since", "", "re-send the dossiers synced since this RFC 3339 time or day yyyy-mm-dd")
		file := fs.String("dossiers", "", "re-send the dossiers listed in FILE, one code a line ('-' reads stdin)")
		job := fs.String("job", "", "print a job's progress")
		wait := fs.Bool("wait", false, "wait until the job is done, printing its progress")
		actor := fs.String("actor", "", "who asks (audit)")
		if err := fs.Parse(args[1:]); err != nil || fs.NArg() != 0 {
			return errUsage
		}
		if *job != "" {
			if *since != "" || *file != "" {
				return errUsage
			}
			return c.get("/admin/v1/sync/replay/" + url.PathEscape(*job))
		}
		if (*since == "") == (*file == "") {
			return errUsage
		}
		body := map[string]any{}
		if *actor != "" {
			body["actor"] = *actor
		}
		if *since != "" {
			body["since"] = *since
		} else {
			codes, err := readCodes(*file)
			if err != nil {
				return err
			}
			body["dossiers"] = codes
		}
		if !*wait {
			return c.do(http.MethodPost, "/admin/v1/sync/replay", body)
		}
		var started struct {
			Job string `json:"job"`
		}
		if err := c.postJSON("/admin/v1/sync/replay", body, &started); err != nil {
			return err
		}
		return waitJob(c, started.Job, stderr)
	}
	return errUsage
}

// readCodes reads one dossier code a line; blank lines and lines starting with # are skipped.
func readCodes(name string) ([]string, error) {
	var in io.Reader = os.Stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("reading dossiers: %w", err)
		}
		defer f.Close()
		in = f
	}
	var codes []string
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		codes = append(codes, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading dossiers: %w", err)
	}
	if len(codes) == 0 {
		return nil, errors.New("reading dossiers: the file lists no dossier")
	}
	return codes, nil
}

// waitJob polls a job until it is done, printing its progress when it changes.
func waitJob(c client, id string, stderr io.Writer) error {
	last := -1
	for {
		var job struct {
			Status string `json:"status"`
			Total  int    `json:"total"`
			Done   int    `json:"done"`
		}
		if err := c.getJSON("/admin/v1/sync/replay/"+url.PathEscape(id), &job); err != nil {
			return err
		}
		if job.Done != last {
			fmt.Fprintf(stderr, "%s: %d/%d\n", id, job.Done, job.Total)
			last = job.Done
		}
		if job.Status == "done" {
			return c.get("/admin/v1/sync/replay/" + url.PathEscape(id))
		}
		time.Sleep(time.Second)
	}
}

// postJSON sends body and reads a 2xx answer into v; any other answer is printed and is an error.
func (c client) postJSON(path string, body, v any) error {
	resp, err := c.send(http.MethodPost, path, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if resp.StatusCode >= 300 {
		_, _ = c.out.Write(append(raw, '\n'))
		return fmt.Errorf("POST %s: HTTP %d", path, resp.StatusCode)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("reading answer: %w", err)
	}
	return nil
}

// verifyDay runs a day's check; when the gateway answers that it goes on in the background
// (202), it waits for the report made by that run and prints it.
func verifyDay(c client, path string, stderr io.Writer) error {
	resp, err := c.send(http.MethodPost, path, nil)
	if err != nil {
		return err
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return c.print(http.MethodPost, path, resp.StatusCode, raw)
	}
	var running struct {
		StartedAt time.Time `json:"started_at"`
	}
	if err := json.Unmarshal(raw, &running); err != nil {
		return fmt.Errorf("reading answer: %w", err)
	}
	fmt.Fprintln(stderr, "the check goes on at the gateway; waiting for its report")
	for {
		time.Sleep(2 * time.Second)
		var rep struct {
			GeneratedAt time.Time `json:"generated_at"`
		}
		if err := c.getJSON(path, &rep); err == nil && !rep.GeneratedAt.Before(running.StartedAt.Truncate(time.Second)) {
			return c.get(path)
		}
	}
}

// print writes an answer, indented when it is JSON; a status of 300 or more is an error.
func (c client) print(method, path string, status int, raw []byte) error {
	var pretty bytes.Buffer
	if json.Indent(&pretty, raw, "", "  ") == nil {
		raw = append(pretty.Bytes(), '\n')
	}
	_, _ = c.out.Write(raw)
	if status >= 300 {
		return fmt.Errorf("%s %s: HTTP %d", method, path, status)
	}
	return nil
}
