// A vCenter simulator for the tests: govmomi's own simulator, started on
// 127.0.0.1 with the default inventory (one datacenter "DC0", VMs
// "DC0_H0_VM0", "DC0_H0_VM1", "DC0_C0_RP0_VM0", ...), behind a front end
// that adds what a real vCenter does and the simulator lacks, each file's
// comment citing VMware's documentation of the behaviour:
//
//	cbt.go      changed block tracking and QueryChangedDiskAreas
//	folder.go   the /folder datastore endpoint: ESXi's disk lock, byte
//	            counts, injected resets and 503s
//	session.go  session idle timeout (NotAuthenticated, 401)
//	soap.go     the SOAP front end and its faults
//	control.go  /azprep-test/..., the tests' control paths
//	vm.go       finding VMs, disks and their datastore files
//
// tests/lib/vcsim.sh starts it and wraps the control paths; every VM of
// the default inventory is powered on.  Prints the SDK URL on stdout and
// serves until killed.
// -cert/-key: TLS with that certificate.  -idle SECONDS: session idle
// timeout.  -cbt-page BYTES: most disk bytes one QueryChangedDiskAreas
// reply covers.
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/vmware/govmomi/simulator"
)

func main() {
	listen := flag.String("l", "127.0.0.1:0", "listen address")
	cert := flag.String("cert", "", "TLS certificate (PEM)")
	key := flag.String("key", "", "TLS key (PEM)")
	user := flag.String("user", "user", "user name")
	pass := flag.String("pass", "pass", "password")
	// vCenter's default idle session timeout: 30 minutes.
	idle := flag.Float64("idle", 1800, "session idle timeout (seconds)")
	page := flag.Int64("cbt-page", 1<<30,
		"disk bytes covered by one QueryChangedDiskAreas reply")
	flag.Parse()
	if *idle <= 0 || *page < cbtBlock {
		log.Fatal("-idle must be > 0 and -cbt-page >= 65536")
	}

	model := simulator.VPX()
	defer model.Remove()
	if err := model.Create(); err != nil {
		log.Fatal(err)
	}
	model.Service.Listen = &url.URL{Host: *listen, User: url.UserPassword(*user, *pass)}
	if *cert != "" {
		c, err := tls.LoadX509KeyPair(*cert, *key)
		if err != nil {
			log.Fatal(err)
		}
		model.Service.TLS = &tls.Config{Certificates: []tls.Certificate{c}}
	}
	s := model.Service.NewServer()
	defer s.Close()

	fe := newFrontend(s.Config.Handler, time.Duration(*idle*float64(time.Second)), *page)
	// No request has arrived yet: the URL is printed below.
	s.Config.Handler = fe
	go fe.sessions.reap()

	u := *s.URL
	u.User = nil
	fmt.Println(u.String())
	os.Stdout.Sync()

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
}
