// Command pulumi-language-nodejs is the Node.js language host this project runs under a
// current Pulumi CLI. The Go module proxy serves current CLIs but not the Node.js language
// host's own module, so the host that runs programs is the last one inside the SDK module
// (v3.68.0, installed beside this executable as pulumi-language-nodejs-v3.68). This host
// starts it, forwards every LanguageRuntime call to it unchanged, and answers one call
// itself: RunPlugin for a policy pack ("analyzer"), which CLIs since v3.221 send to the
// language host and v3.68 does not know. It runs the pack as Node.js packs ran before:
// node runs @pulumi/pulumi's run-policy-pack, resolved from the pack's own directory, with
// the engine's address, and with the stack's config, name and dry-run flag in its
// environment (see packSession); its output and exit code are streamed back.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// innerHost is the v3.68 host's file name, beside this executable.
const innerHost = "pulumi-language-nodejs-v3.68"

const runPluginMethod = "/pulumirpc.LanguageRuntime/RunPlugin"

// maxMessage matches the engine's own limit on plugin messages (400 MiB).
const maxMessage = 400 * 1024 * 1024

// frame is one gRPC message as bytes: the proxy forwards what it does not read.
type frame []byte

// rawCodec passes messages through as bytes, so any method of any service is forwarded.
type rawCodec struct{}

func (rawCodec) Name() string { return "proto" }

func (rawCodec) Marshal(v any) ([]byte, error) {
	switch m := v.(type) {
	case *frame:
		return *m, nil
	case proto.Message:
		return proto.Marshal(m)
	}
	return nil, fmt.Errorf("cannot marshal %T", v)
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	switch m := v.(type) {
	case *frame:
		*m = append((*m)[:0], data...)
		return nil
	case proto.Message:
		return proto.Unmarshal(data, m)
	}
	return fmt.Errorf("cannot unmarshal into %T", v)
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	inner := exec.Command(filepath.Join(filepath.Dir(self), innerHost), os.Args[1:]...)
	inner.Stderr = os.Stderr
	out, err := inner.StdoutPipe()
	if err != nil {
		return err
	}
	if err := inner.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", innerHost, err)
	}
	// Signals the engine sends this host go on to the inner one.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		for s := range signals {
			_ = inner.Process.Signal(s)
		}
	}()
	// A language host's first line on stdout is the port it serves on.
	lines := bufio.NewReader(out)
	port, err := lines.ReadString('\n')
	if err != nil {
		_ = inner.Process.Kill()
		return fmt.Errorf("%s did not report its port: %w", innerHost, err)
	}
	conn, err := grpc.NewClient("127.0.0.1:"+strings.TrimSpace(port),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(rawCodec{}),
			grpc.MaxCallRecvMsgSize(maxMessage), grpc.MaxCallSendMsgSize(maxMessage)))
	if err != nil {
		return err
	}
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	server := grpc.NewServer(
		grpc.ForceServerCodec(rawCodec{}),
		grpc.MaxRecvMsgSize(maxMessage), grpc.MaxSendMsgSize(maxMessage),
		grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error { return handle(conn, stream) }),
	)
	fmt.Printf("%d\n", listener.Addr().(*net.TCPAddr).Port)
	go func() { _, _ = io.Copy(os.Stdout, lines) }()
	go func() { _ = server.Serve(listener) }()
	// This host lives as long as the inner one.
	err = inner.Wait()
	server.Stop()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		os.Exit(exit.ExitCode())
	}
	return err
}

// handle serves one call: RunPlugin for an analyzer here, everything else by the inner host.
func handle(conn *grpc.ClientConn, stream grpc.ServerStream) error {
	method, _ := grpc.MethodFromServerStream(stream)
	var first *frame
	if method == runPluginMethod {
		var req pulumirpc.RunPluginRequest
		var raw frame
		if err := stream.RecvMsg(&raw); err != nil {
			return err
		}
		if err := proto.Unmarshal(raw, &req); err != nil {
			return status.Errorf(codes.InvalidArgument, "RunPlugin: %v", err)
		}
		if req.GetKind() == "analyzer" {
			return runPolicyPack(&req, stream)
		}
		first = &raw
	}
	return forward(conn, method, stream, first)
}

// forward relays one call of any kind (unary or streaming) to the inner host, with its
// metadata, and its status (Unimplemented included) back to the engine unchanged.
func forward(conn *grpc.ClientConn, method string, in grpc.ServerStream, first *frame) error {
	ctx, cancel := context.WithCancel(in.Context())
	defer cancel()
	if md, ok := metadata.FromIncomingContext(in.Context()); ok {
		ctx = metadata.NewOutgoingContext(ctx, md.Copy())
	}
	out, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}, method)
	if err != nil {
		return err
	}
	go func() {
		if first != nil && out.SendMsg(first) != nil {
			return
		}
		for {
			var f frame
			if in.RecvMsg(&f) != nil || out.SendMsg(&f) != nil {
				_ = out.CloseSend()
				return
			}
		}
	}()
	if md, err := out.Header(); err == nil {
		_ = in.SendHeader(md)
	}
	for {
		var f frame
		if err := out.RecvMsg(&f); err != nil {
			in.SetTrailer(out.Trailer())
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if err := in.SendMsg(&f); err != nil {
			return err
		}
	}
}

// The variables the engine gave a Node.js policy pack before it ran packs through the
// language host (CLIs up to v3.220 set them for the pulumi-analyzer-policy shim). Packs read
// the stack's config, name and whether this is a preview from them; the new engine sends the
// same facts in its ConfigureStack call instead. Whatever the shell set for them is dropped:
// only the engine's word counts.
var engineVariables = []string{
	"PULUMI_CONFIG", "PULUMI_ORGANIZATION", "PULUMI_PROJECT", "PULUMI_STACK", "PULUMI_DRY_RUN",
	"PULUMI_NODEJS_ORGANIZATION", "PULUMI_NODEJS_PROJECT", "PULUMI_NODEJS_STACK", "PULUMI_NODEJS_DRY_RUN",
}

// packEnv is the RunPlugin request's environment without engineVariables, plus those the
// engine's ConfigureStack call gives (none when it sent none).
func packEnv(base []string, stack *pulumirpc.AnalyzerStackConfigureRequest) ([]string, error) {
	var out []string
	for _, kv := range base {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(engineVariables, name) {
			out = append(out, kv)
		}
	}
	if stack == nil {
		return out, nil
	}
	config, err := json.Marshal(stack.GetConfig())
	if err != nil {
		return nil, err
	}
	set := func(name, value string) {
		if value != "" {
			out = append(out, name+"="+value)
		}
	}
	set("PULUMI_CONFIG", string(config))
	dryRun := strconv.FormatBool(stack.GetDryRun())
	for _, prefix := range []string{"PULUMI_NODEJS_", "PULUMI_"} {
		set(prefix+"ORGANIZATION", stack.GetOrganization())
		set(prefix+"PROJECT", stack.GetProject())
		set(prefix+"STACK", stack.GetStack())
		set(prefix+"DRY_RUN", dryRun)
	}
	return out, nil
}

// packSession runs one policy pack for the engine. The engine is told the port of a proxy
// of ours at once; the pack's node process starts on the engine's first call that needs it
// — ConfigureStack, which says which stack and whether this is a preview, so the pack starts
// with them in its environment — and every call is forwarded to it.
type packSession struct {
	req    *pulumirpc.RunPluginRequest
	stream grpc.ServerStream
	send   func(*pulumirpc.RunPluginResponse) error

	mu      sync.Mutex
	relays  sync.WaitGroup
	started chan struct{}
	conn    *grpc.ClientConn
	cmd     *exec.Cmd
	err     error
}

// runPolicyPack answers RunPlugin for an analyzer: the proxy's port on stdout, then the
// pack's own output and exit code once it runs. The engine cancels the call to stop it.
func runPolicyPack(req *pulumirpc.RunPluginRequest, stream grpc.ServerStream) error {
	var sendMu sync.Mutex
	p := &packSession{req: req, stream: stream, started: make(chan struct{})}
	p.send = func(r *pulumirpc.RunPluginResponse) error {
		sendMu.Lock()
		defer sendMu.Unlock()
		return stream.SendMsg(r)
	}
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return status.Errorf(codes.Internal, "policy pack proxy: %v", err)
	}
	server := grpc.NewServer(
		grpc.ForceServerCodec(rawCodec{}),
		grpc.MaxRecvMsgSize(maxMessage), grpc.MaxSendMsgSize(maxMessage),
		grpc.UnknownServiceHandler(func(_ any, s grpc.ServerStream) error { return p.handle(s) }),
	)
	go func() { _ = server.Serve(listener) }()
	defer server.Stop()
	port := fmt.Sprintf("%d\n", listener.Addr().(*net.TCPAddr).Port)
	if err := p.send(stdoutOf([]byte(port))); err != nil {
		return err
	}
	select {
	case <-stream.Context().Done():
		p.stop()
		return nil
	case <-p.started:
	}
	if p.err != nil {
		return status.Errorf(codes.FailedPrecondition, "%v", p.err)
	}
	// Everything the pack wrote is passed on before its exit code.
	p.relays.Wait()
	code := int32(0)
	if err := p.cmd.Wait(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			return status.Errorf(codes.Internal, "policy pack: %v", err)
		}
		code = int32(exit.ExitCode())
	}
	return p.send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: code}})
}

func stdoutOf(b []byte) *pulumirpc.RunPluginResponse {
	return &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: b}}
}

func (p *packSession) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil && p.cmd.Process != nil {
		_ = p.cmd.Process.Kill()
	}
}

// handle serves one engine call to the pack, starting the pack first if it is not running.
func (p *packSession) handle(s grpc.ServerStream) error {
	method, _ := grpc.MethodFromServerStream(s)
	var first *frame
	var stack *pulumirpc.AnalyzerStackConfigureRequest
	switch method {
	case "/pulumirpc.Analyzer/Handshake":
		if !p.running() {
			// Optional for the engine, which then goes on as before handshakes existed.
			return status.Error(codes.Unimplemented, "Handshake: the pack starts on ConfigureStack")
		}
	case "/pulumirpc.Analyzer/ConfigureStack":
		var raw frame
		if err := s.RecvMsg(&raw); err != nil {
			return err
		}
		stack = &pulumirpc.AnalyzerStackConfigureRequest{}
		if err := proto.Unmarshal(raw, stack); err != nil {
			return status.Errorf(codes.InvalidArgument, "ConfigureStack: %v", err)
		}
		first = &raw
	}
	conn, err := p.start(stack)
	if err != nil {
		return status.Errorf(codes.FailedPrecondition, "%v", err)
	}
	return forward(conn, method, s, first)
}

func (p *packSession) running() bool {
	select {
	case <-p.started:
		return p.err == nil
	default:
		return false
	}
}

// start runs `node run-policy-pack <engine> .` in the pack's directory once, and connects to
// the port it reports.
func (p *packSession) start(stack *pulumirpc.AnalyzerStackConfigureRequest) (*grpc.ClientConn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.started:
		return p.conn, p.err
	default:
	}
	defer close(p.started)
	p.conn, p.err = p.launch(stack)
	return p.conn, p.err
}

func (p *packSession) launch(stack *pulumirpc.AnalyzerStackConfigureRequest) (*grpc.ClientConn, error) {
	dir := p.req.GetInfo().GetProgramDirectory()
	if dir == "" {
		dir = p.req.GetPwd()
	}
	env, err := packEnv(p.req.GetEnv(), stack)
	if err != nil {
		return nil, err
	}
	resolve := exec.Command("node", "-p", "require.resolve('@pulumi/pulumi/cmd/run-policy-pack')")
	resolve.Dir = dir
	resolve.Env = env
	script, err := resolve.Output()
	if err != nil {
		return nil, fmt.Errorf("the policy pack in %s cannot load @pulumi/pulumi/cmd/run-policy-pack "+
			"(are its dependencies installed?): %v", dir, err)
	}
	args := append([]string{strings.TrimSpace(string(script))}, p.req.GetArgs()...)
	p.cmd = exec.CommandContext(p.stream.Context(), "node", append(args, ".")...)
	p.cmd.Dir = dir
	p.cmd.Env = env
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting node for the policy pack: %v", err)
	}
	p.relays.Add(2)
	go p.relay(stderr, func(b []byte) *pulumirpc.RunPluginResponse {
		return &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: b}}
	})
	// The pack's first line is its port: ours was reported instead; the rest goes on as output.
	lines := bufio.NewReader(stdout)
	port, err := lines.ReadString('\n')
	if err != nil {
		p.relays.Done()
		_ = p.cmd.Process.Kill()
		return nil, fmt.Errorf("the policy pack exited before it reported its port")
	}
	go p.relay(lines, stdoutOf)
	return grpc.NewClient("127.0.0.1:"+strings.TrimSpace(port),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(rawCodec{}),
			grpc.MaxCallRecvMsgSize(maxMessage), grpc.MaxCallSendMsgSize(maxMessage)))
}

// relay streams one of the pack's outputs to the engine as RunPlugin answers.
func (p *packSession) relay(r io.Reader, wrap func([]byte) *pulumirpc.RunPluginResponse) {
	defer p.relays.Done()
	buf := make([]byte, 32*1024)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			_ = p.send(wrap(append([]byte(nil), buf[:n]...)))
		}
		if err != nil {
			return
		}
	}
}
