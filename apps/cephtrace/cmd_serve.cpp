// `cephtrace serve`: the REST API and the browser viewer (include/cephtrace/serve.hpp).
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include <pthread.h>

#include "cephtrace/limits.hpp"
#include "cephtrace/serve.hpp"
#include "cli_util.hpp"
#include "commands.hpp"

namespace cephtrace::cli {
namespace {

namespace fs = std::filesystem;

struct ServeArgs {
  ServeOptions serve;
  std::string model_dir, web_dir, open_image, decoder = "reference";
  double max_upload_mb = 64;
  double timeout_s = 60;
  bool quiet = false;
};

int run_serve(ServeArgs& a) {
  // SIGINT/SIGTERM are taken by one thread (below) that stops the server cleanly; block
  // them before any other thread starts so that they all inherit the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not end the server

  ServeOptions& o = a.serve;
  if (o.token.empty())
    if (const char* env = std::getenv("CEPHTRACE_TOKEN")) o.token = env;
  o.predictor.model_dir = a.model_dir.empty() ? default_model_dir() : fs::path(a.model_dir);
  o.predictor.decoder = a.decoder == "dark" ? Decoder::Dark : Decoder::Reference;
  o.web_dir = a.web_dir.empty() ? default_web_dir() : fs::path(a.web_dir);
  std::error_code ec;
  if (a.web_dir.empty() && !fs::is_regular_file(o.web_dir / "index.html", ec)) {
    // A given --web-dir must exist (ApiServer says so); without one, the API still works.
    std::cerr << "warning: viewer files not found (" << o.web_dir.string()
              << "); serving the API only (--web-dir names them)\n";
    o.web_dir.clear();
  }
  o.open_image = a.open_image;
  o.max_upload_bytes = static_cast<std::size_t>(a.max_upload_mb * 1024 * 1024);
  o.request_timeout = std::chrono::milliseconds(static_cast<long long>(a.timeout_s * 1000));
  o.log_requests = !a.quiet;

  ApiServer server(o);
  const int port = server.bind();
  const std::string host = o.host.find(':') != std::string::npos ? "[" + o.host + "]" : o.host;
  std::cout << "cephtrace serve: listening on http://" << host << ":" << port << "/\n"
            << (o.web_dir.empty() ? "  viewer: none" : "  viewer: http://" + host + ":" + std::to_string(port) + "/")
            << "   API: /v1/...   OpenAPI: /openapi.json\n"
            << "  " << o.workers << " worker(s), queue " << o.queue << ", time limit " << a.timeout_s
            << " s, uploads up to " << a.max_upload_mb << " MB\n";
  if (!o.token.empty())
    std::cout << "  every API call needs 'Authorization: Bearer <token>' (the --token)\n";
  else
    std::cout << "  no token: reachable from this machine only (loopback)\n";
  std::cout << std::flush;

  std::thread stopper([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    server.stop();
  });
  server.listen();
  // listen() also returns when binding was lost; wake the stopper so it can be joined.
  pthread_kill(stopper.native_handle(), SIGTERM);
  stopper.join();
  std::cout << "cephtrace serve: stopped\n";
  return 0;
}

}  // namespace

CommandRunner add_serve_command(CLI::App& app) {
  auto a = std::make_shared<ServeArgs>();
  auto* cmd = app.add_subcommand(
      "serve",
      "Serve the REST API (/v1/predict, /v1/analyze, /v1/overlay, /v1/health, /v1/models, "
      "/openapi.json)\nand the browser viewer. Loopback only unless --host is given with "
      "--token. Ctrl-C stops it.");
  cmd->add_option("--host", a->serve.host, "Address to listen on (non-loopback needs --token)")
      ->capture_default_str();
  cmd->add_option("--port", a->serve.port, "Port (0 = any free port)")
      ->capture_default_str()->check(CLI::Range(0, 65535));
  cmd->add_option("--token", a->serve.token,
                  "Bearer token every API call must carry (or $CEPHTRACE_TOKEN, which stays out "
                  "of the process list)");
  cmd->add_option("--model-dir", a->model_dir,
                  "Model folder; default: " + default_model_dir_help());
  cmd->add_option("--web-dir", a->web_dir,
                  "Viewer files; default: ./web, else the installed ones (<prefix>/share/cephtrace/web), "
                  "else the source tree's; here: " + default_web_dir().string());
  cmd->add_option("--open", a->open_image, "An image the viewer opens when it starts")
      ->check(CLI::ExistingFile);
  cmd->add_option("--max-upload-mb", a->max_upload_mb, "Largest accepted upload (413 above)")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--workers", a->serve.workers,
                  "Predictions run in parallel (one set of models each)")
      ->capture_default_str()->check(CLI::Range(1, 64));
  cmd->add_option("--queue", a->serve.queue, "Requests that may wait for a worker (503 beyond)")
      ->capture_default_str()->check(CLI::Range(0, 10000));
  cmd->add_option("--timeout-s", a->timeout_s, "Time limit per request, queueing included (504)")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--threads", a->serve.predictor.threads,
                  std::string(kThreadsHelp) +
                      ". The workers share it: OpenCV runs one parallel loop at a time, and a "
                      "worker whose loop starts meanwhile runs it on its own thread")
      ->check(CLI::Range(0, limits().max_threads));
  cmd->add_option("--decoder", a->decoder, "Default heatmap decoder: reference or dark")
      ->check(CLI::IsMember({"reference", "dark"}));
  cmd->add_option("--refine-passes", a->serve.predictor.refine_passes,
                  "Default Stage 2 passes (a request may ask for others)")
      ->capture_default_str()->check(CLI::Range(0, 5));
  cmd->add_flag("--strict", a->serve.predictor.strict,
                "Refuse to start when a Stage 0 model is missing (instead of running degraded)");
  cmd->add_flag("--gpu", a->serve.predictor.use_gpu, "Run the models on a CUDA GPU");
  cmd->add_flag("--quiet", a->quiet, "Do not log requests");
  add_limit_options(cmd);  // --max-pixels etc.: what an uploaded image may be
  return [a] { return run_serve(*a); };
}

}  // namespace cephtrace::cli
