// `cephtrace serve`: the REST API (/v1/...) and the browser viewer, in one HTTP server.
//
// The models are loaded once per worker (one Predictor each: a Predictor serialises its
// calls). Predictions go through a bounded queue to the workers; a full queue answers 503
// with Retry-After, a request that waits longer than its time limit 504. Every error is
// {"error": {"code", "message"}} with its status code.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cephtrace/predictor.hpp"

namespace cephtrace {

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0 = any free port (see ApiServer::bind)
  // Required when `host` is not a loopback address: "Authorization: Bearer <token>" on
  // every API call (/v1/..., /openapi.json). Empty = no check (loopback only).
  std::string token;
  std::size_t max_upload_bytes = 64u << 20;
  int workers = 1;          // predictors running in parallel
  int queue = 8;            // requests that may wait for a worker before 503
  std::chrono::milliseconds request_timeout{60'000};  // from queueing to the answer
  PredictorOptions predictor;  // defaults for every worker (threads: one pool for all of them)
  std::filesystem::path web_dir;  // the viewer's static files; empty = no viewer
  bool log_requests = false;      // one line per request on stderr
  // An image the viewer opens when it starts (GET /v1/open-image); empty = none.
  std::filesystem::path open_image;
};

// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_host(const std::string& host);

// One route of the API, for the OpenAPI check and the start-up message.
struct ApiRoute {
  std::string method, path;
};

class ApiServer {
 public:
  // Loads the models (one Predictor per worker) and sets up the routes. Throws
  // std::invalid_argument for unusable options (e.g. a non-loopback host without a token)
  // and ModelError when the models do not load.
  explicit ApiServer(ServeOptions options);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Binds the listening socket; returns the port (useful with port 0). Throws
  // std::runtime_error when the address cannot be bound.
  int bind();
  // Serves until stop() (from any thread). Call bind() first.
  void listen();
  void stop();

  static const std::vector<ApiRoute>& routes();
  // The OpenAPI 3 document of routes(), as served at /openapi.json.
  static const std::string& openapi_json();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cephtrace
