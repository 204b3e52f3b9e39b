package transcoding_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/jobs"
	"github.com/shizuishan/culturecloud/internal/testwait"
	"github.com/shizuishan/culturecloud/internal/transcoding"
	"github.com/shizuishan/culturecloud/storage"
)

// workerEnv holds, for TestWorkerProcess, the services to work against (JSON).
const workerEnv = "CC_TRANSCODING_WORKER"

// TestWorkerProcess is not a test: TestWorkerCrash runs the test binary with only this test
// selected and workerEnv set, to have a worker it can kill.
func TestWorkerProcess(t *testing.T) {
	conf := os.Getenv(workerEnv)
	if conf == "" {
		t.Skip("runs only as the worker process of TestWorkerCrash")
	}
	var s services
	if err := json.Unmarshal([]byte(conf), &s); err != nil {
		t.Fatal(err)
	}
	e := connect(t, s)
	o := transcoding.Options{Consumer: "doomed", MinIdle: 2 * time.Second}
	o.Transcode.Preset = "medium" // slow enough to be killed in the middle
	r := e.runner(t, o, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // should the test die first
	defer cancel()
	r.Run(ctx)
}

func TestWorkerCrash(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	it := e.newItem(t)
	f := e.addFile(t, it.ID, "大武口洗煤厂.mp4", "video/mp4", clip(t, 20, "1280x720"))
	counts := &logCounts{}
	// The doomed worker and the rescuer share a temporary folder, as workers of one machine do.
	tmp := t.TempDir()
	rescuer := e.runner(t, transcoding.Options{Consumer: "rescuer", MinIdle: 2 * time.Second, TempDir: tmp}, counts)
	j, err := rescuer.Enqueue(ctx, it.ID, f)
	if err != nil {
		t.Fatal(err)
	}

	conf, err := json.Marshal(e.services)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestWorkerProcess$", "-test.v")
	cmd.Env = append(os.Environ(), workerEnv+"="+string(conf), "TMPDIR="+tmp)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		if t.Failed() {
			t.Logf("worker process output:\n%s", out.String())
		}
	}()

	// Progress shows while it runs.
	running := e.waitJob(t, j.ID, 60*time.Second, func(j jobs.Job) bool { return j.Percent > 0 || settled(j) })
	if running.State != jobs.Running || running.Attempts != 1 {
		t.Fatalf("job while the worker runs = %+v", running)
	}
	rec, err := rescuer.Get(ctx, it.ID)
	if fm := rec.Files[f.Path]; err != nil || fm.State != transcoding.Running || fm.Percent <= 0 || fm.Job != j.ID {
		t.Errorf("media while running = %+v, %v", fm, err)
	}

	// What an earlier attempt might have left half uploaded.
	stray := transcoding.Folder(it.ID, f.SHA256) + "stale/seg-999.ts"
	if _, err := e.docs.Objects().PutBytes(ctx, stray, []byte("x"), storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}

	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no chance to clean up
		t.Fatal(err)
	}
	_ = cmd.Wait()
	killed = true
	if s := cmd.ProcessState; s == nil || s.Success() {
		t.Fatalf("worker was not killed: %v", s)
	}
	// Its ffmpeg dies with it rather than transcoding on for nobody.
	testwait.UntilState(t, "the processes of the killed worker end", func() (bool, string) {
		orphans := toolsWorkingIn(t, tmp)
		return len(orphans) == 0, fmt.Sprint(orphans)
	})
	if left := scratchFolders(t, tmp); len(left) == 0 {
		t.Fatal("the killed worker left no temporary folder: the test no longer shows the sweep")
	}

	run(t, rescuer)
	j = e.waitJob(t, j.ID, 100*time.Second, settled)
	if j.State != jobs.Done || j.Attempts != 2 || j.Error != "" {
		t.Fatalf("job after the crash = %+v, want done on attempt 2", j)
	}
	rec, err = rescuer.Get(ctx, it.ID)
	if err != nil {
		t.Fatal(err)
	}
	fm := rec.Files[f.Path]
	if fm.State != transcoding.Done || fm.Job != j.ID || len(fm.Files) == 0 || fm.Duration < 19 {
		t.Fatalf("media = %+v", fm)
	}
	if keys := e.keys(t, it.ID, f.SHA256); !reflect.DeepEqual(keys, fm.Files) {
		t.Errorf("stored objects %v\nrecord lists  %v", keys, fm.Files)
	}
	e.contentTypeOK(t, it.ID, f.SHA256, fm.Files)
	if n := counts.get("transcoding done"); n != 1 {
		t.Errorf("%d done transitions, want 1", n)
	}
	if n := counts.get("transcoding started"); n != 1 {
		t.Errorf("rescuer started the job %d times, want 1", n)
	}
	if n := e.pending(t); n != 0 {
		t.Errorf("%d messages still pending", n)
	}
	// The rescuer swept the dead worker's folder when it started, and removed its own.
	if left := scratchFolders(t, tmp); len(left) > 0 {
		t.Errorf("temporary folders left behind: %v", left)
	}
}

// toolsWorkingIn lists the processes (other than this one) whose command line names dir.
func toolsWorkingIn(t *testing.T, dir string) []string {
	t.Helper()
	procs, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc to look for orphaned tools: %v", err)
	}
	var found []string
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + p.Name() + "/cmdline")
		if err == nil && bytes.Contains(cmdline, []byte(dir+"/")) {
			found = append(found, p.Name()+": "+strings.ReplaceAll(string(cmdline), "\x00", " "))
		}
	}
	return found
}

func scratchFolders(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), transcoding.ScratchPrefix+"-") {
			names = append(names, e.Name())
		}
	}
	return names
}
