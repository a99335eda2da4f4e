// The HTTP side of `cephtrace serve`: routes, request options, JSON errors, the bearer
// token, and the hand-over of image work to the bounded worker queue.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <future>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "cephtrace/analysis.hpp"
#include "cephtrace/image_io.hpp"
#include "cephtrace/limits.hpp"
#include "cephtrace/model_contract.hpp"
#include "cephtrace/overlay.hpp"
#include "cephtrace/serve.hpp"
#include "cephtrace/version.hpp"

#include "core/onnx_model.hpp"
#include "download/sha256.hpp"
#include "serve/work_queue.hpp"

namespace cephtrace {

bool is_loopback_host(const std::string& host) {
  if (host == "localhost" || host == "::1") return true;
  in_addr v4{};
  return ::inet_pton(AF_INET, host.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}

namespace {

using nlohmann::json;
using nlohmann::ordered_json;

// An answer computed on a worker, copied into the HTTP response by the waiting handler.
struct Reply {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

std::string error_body(std::string_view code, std::string_view message) {
  return json{{"error", {{"code", code}, {"message", message}}}}.dump();
}

Reply error_reply(int status, std::string_view code, std::string_view message) {
  return {status, error_body(code, message), "application/json", {}};
}

void send(httplib::Response& res, const Reply& reply) {
  res.status = reply.status;
  for (const auto& [k, v] : reply.headers) res.set_header(k, v);
  res.set_content(reply.body, reply.content_type.c_str());
}

// A request the client got wrong; its message goes back verbatim with `status`.
struct ClientError : std::runtime_error {
  int status;
  std::string code;
  ClientError(int s, std::string c, const std::string& message)
      : std::runtime_error(message), status(s), code(std::move(c)) {}
};

// A request option from the query string or, for multipart uploads, a form field.
std::optional<std::string> option(const httplib::Request& req, const std::string& name) {
  if (req.has_param(name)) return req.get_param_value(name);
  if (req.is_multipart_form_data() && req.has_file(name)) {
    const auto part = req.get_file_value(name);
    if (part.filename.empty()) return part.content;
  }
  return std::nullopt;
}

bool bool_option(const httplib::Request& req, const std::string& name) {
  const auto v = option(req, name);
  if (!v) return false;
  if (*v == "" || *v == "1" || *v == "true" || *v == "yes") return true;
  if (*v == "0" || *v == "false" || *v == "no") return false;
  throw ClientError(400, "bad_request", name + " must be true or false, not '" + *v + "'");
}

// "analyses=steiner,wits": the analyses to report (AnalysisOptions::analyses), checked here so
// that a typo is a 400 naming the known ids, not a server error.
std::vector<std::string> analyses_option(const httplib::Request& req) {
  std::vector<std::string> ids;
  const auto v = option(req, "analyses");
  if (!v) return ids;
  std::string id;
  for (char c : *v + ",") {
    if (c != ',') { id += c; continue; }
    if (!id.empty()) ids.push_back(id);
    id.clear();
  }
  AnalysisOptions probe;
  probe.analyses = ids;
  try {
    analyze(OriginalImageLandmarks{}, probe);
  } catch (const std::invalid_argument& e) {
    throw ClientError(400, "bad_request", std::string("analyses: ") + e.what());
  }
  return ids;
}

std::optional<double> spacing_option(const httplib::Request& req) {
  auto v = option(req, "pixel_spacing_mm");
  if (!v) v = option(req, "pixel_spacing");
  if (!v) return std::nullopt;
  double mm = 0;
  try {
    size_t used = 0;
    mm = std::stod(*v, &used);
    if (used != v->size()) throw std::invalid_argument("trailing characters");
  } catch (const std::exception&) {
    throw ClientError(400, "bad_request", "pixel_spacing_mm must be a number of mm per pixel, not '" + *v + "'");
  }
  try {
    check_pixel_spacing(mm, "pixel_spacing_mm");  // the plausible range, as for the CLI
  } catch (const LimitError& e) {
    throw ClientError(400, "bad_request", e.what());
  }
  return mm;
}

template <class T>
T choice_option(const httplib::Request& req, const std::string& name,
                std::initializer_list<std::pair<std::string_view, T>> choices, T fallback) {
  const auto v = option(req, name);
  if (!v) return fallback;
  std::string allowed;
  for (const auto& [text, value] : choices) {
    if (*v == text) return value;
    allowed += (allowed.empty() ? "" : ", ") + std::string(text);
  }
  throw ClientError(400, "bad_request", name + " must be one of " + allowed + ", not '" + *v + "'");
}

// What `cephtrace predict` can be asked for, per request.
struct PredictRequest {
  std::string image;  // encoded bytes
  std::string name;   // the upload's file name, or "<upload>"
  std::optional<double> pixel_spacing_mm;
  bool analyze = false;
  std::vector<std::string> analyses;  // with analyze: which ones (empty: all)
  PredictorOptions predictor;
  std::optional<json> landmarks;  // /v1/overlay: draw these instead of predicting
};

// Image formats by their first bytes; DICOM also by its media type (files without the
// 128-byte preamble have no magic number).
bool looks_like_image(std::string_view b, std::string_view content_type) {
  auto starts = [&](std::string_view magic, size_t at = 0) {
    return b.size() >= at + magic.size() && b.substr(at, magic.size()) == magic;
  };
  return starts("\xFF\xD8\xFF") || starts("\x89PNG\r\n\x1A\n") || starts("BM") ||
         starts(std::string_view("II*\0", 4)) || starts(std::string_view("MM\0*", 4)) ||
         starts("DICM", 128) || content_type.starts_with("application/dicom");
}

PredictRequest parse_image_request(const httplib::Request& req, const PredictorOptions& defaults) {
  PredictRequest r;
  r.name = "<upload>";
  std::string content_type = req.get_header_value("Content-Type");
  if (req.is_multipart_form_data()) {
    if (!req.has_file("image"))
      throw ClientError(400, "bad_request", "multipart upload without an 'image' part");
    auto part = req.get_file_value("image");
    r.image = std::move(part.content);
    if (!part.filename.empty()) r.name = part.filename;
    content_type = part.content_type;
    if (req.has_file("landmarks")) {
      try {
        r.landmarks = parse_json(req.get_file_value("landmarks").content, "'landmarks'");
      } catch (const std::exception& e) {
        throw ClientError(400, "bad_request", e.what());
      }
    }
  } else {
    r.image = req.body;
  }
  if (r.image.empty()) throw ClientError(400, "bad_image", "no image in the request body");
  if (!looks_like_image(r.image, content_type))
    throw ClientError(415, "unsupported_media_type",
                      "not a JPEG, PNG, BMP, TIFF or DICOM image (send the file's bytes as the "
                      "body, or as the 'image' part of a multipart form)");
  r.pixel_spacing_mm = spacing_option(req);
  r.analyze = bool_option(req, "analyze");
  r.analyses = analyses_option(req);
  r.predictor = defaults;
  r.predictor.decoder = choice_option<Decoder>(
      req, "decoder", {{"reference", Decoder::Reference}, {"dark", Decoder::Dark}}, defaults.decoder);
  r.predictor.orientation = choice_option<std::optional<Orientation>>(
      req, "orientation",
      {{"auto", std::nullopt}, {"left", Orientation::FacingLeft}, {"right", Orientation::FacingRight}},
      defaults.orientation);
  r.predictor.refine_passes = choice_option<int>(
      req, "refine_passes", {{"0", 0}, {"1", 1}, {"2", 2}, {"3", 3}, {"4", 4}, {"5", 5}},
      defaults.refine_passes);
  if (option(req, "reference_exact")) r.predictor.reference_exact = bool_option(req, "reference_exact");
  return r;
}

LoadedImage decode(const PredictRequest& r) {
  return decode_image(std::span(reinterpret_cast<const uint8_t*>(r.image.data()), r.image.size()), r.name);
}

// The predictor options a request may change; requests with equal keys share a Predictor.
std::string options_key(const PredictorOptions& o) {
  return std::to_string(static_cast<int>(o.decoder)) + "/" +
         (o.orientation ? std::string(orientation_name(*o.orientation)) : "auto") + "/" +
         std::to_string(o.refine_passes) + "/" + (o.reference_exact ? "exact" : "centreline");
}

// A worker's predictors: the server's defaults, plus the last set of per-request options
// (loading the models again costs ~50 ms with the shipped ones; one spare bounds memory).
struct WorkerPredictors {
  explicit WorkerPredictors(const PredictorOptions& o) : standard(o), standard_key(options_key(o)) {}

  Predictor& get(const PredictorOptions& o) {
    const auto key = options_key(o);
    if (key == standard_key) return standard;
    if (!custom || custom_key != key) {
      custom.reset();  // free the old models before loading new ones
      custom.emplace(o);
      custom_key = key;
    }
    return *custom;
  }

  Predictor standard;
  std::string standard_key;
  std::optional<Predictor> custom;
  std::string custom_key;
};

std::string png_of(const cv::Mat& rgb) {
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  std::vector<uchar> png;
  if (!cv::imencode(".png", bgr, png)) throw std::runtime_error("PNG encoding failed");
  return {png.begin(), png.end()};
}

// Given landmarks (a predict result or ground-truth JSON) as a result to draw.
PredictionResult drawable(const json& j, const cv::Mat& rgb) {
  OriginalImageLandmarks set;
  try {
    set = landmarks_from_json(j);
  } catch (const std::exception& e) {
    throw ClientError(400, "bad_request", std::string("'landmarks': ") + e.what());
  }
  PredictionResult r;
  r.original_width = rgb.cols;
  r.original_height = rgb.rows;
  for (int i = 0; i < kNumTraced; ++i) {
    if (!set.points[i]) continue;
    LandmarkPrediction lm;
    lm.index = i;
    lm.name = std::string(landmark_name(i));
    lm.x = set.points[i]->x;
    lm.y = set.points[i]->y;
    lm.tier = i < kNumLandmarks ? canonical_landmarks()[i].tier : Tier::Low;
    r.landmarks.push_back(lm);
  }
  return r;
}

// The models in the folder, with what a clinic's IT wants to check: size and sha256.
ordered_json describe_models(const std::filesystem::path& dir, const Predictor& p) {
  std::vector<std::pair<std::string, std::string>> files;  // key, relative path
  for (const auto& c : model_contracts()) files.emplace_back(c.name, c.relative_path);
  for (int m = 1; m <= kMaxRefineModels; ++m) files.emplace_back(refine_model_name(m), refine_model_path(m));
  files.emplace_back(extended_contract().name, extended_contract().relative_path);
  const auto loaded = p.loaded_models();
  ordered_json list = ordered_json::array();
  for (const auto& [key, rel] : files) {
    const auto file = dir / rel;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) continue;
    list.push_back({{"name", key},
                    {"file", rel},
                    {"size_bytes", std::filesystem::file_size(file, ec)},
                    {"sha256", detail::sha256_file_hex(file)},
                    {"loaded", std::find(loaded.begin(), loaded.end(), key) != loaded.end()}});
  }
  ordered_json missing = ordered_json::object();
  for (const auto& [key, why] : p.missing_models()) missing[key] = why;
  return {{"model_dir", dir.string()},
          {"stage0_available", p.stage0_available()},
          {"models", list},
          {"missing", missing}};
}

// Compares every byte whatever the first difference, so that the time taken does not tell
// how much of a guessed token was right (its length may leak; that is harmless).
bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

std::string_view default_code(int status) {
  switch (status) {
    case 400: return "bad_request";
    case 401: return "unauthorized";
    case 404: return "not_found";
    case 405: return "method_not_allowed";
    case 413: return "payload_too_large";
    case 415: return "unsupported_media_type";
    case 503: return "unavailable";
    default: return status >= 500 ? "internal" : "error";
  }
}

}  // namespace

struct ApiServer::Impl {
  ServeOptions options;
  httplib::Server http;
  std::vector<std::unique_ptr<WorkerPredictors>> predictors;  // one per worker
  std::unique_ptr<serve::WorkQueue> queue;
  ordered_json models;
  bool degraded = false;  // Stage 0 unavailable (fixed once the models are loaded)
  std::atomic<double> mean_job_s{1.0};  // for Retry-After
  const std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

  // Runs `work` on a worker and answers with its Reply; 503 when the queue is full, 504
  // when the answer takes longer than the request time limit.
  void dispatch(httplib::Response& res, std::function<Reply(WorkerPredictors&)> work) {
    struct Task {
      std::function<Reply(WorkerPredictors&)> work;
      std::promise<Reply> done;
      std::atomic<bool> abandoned{false};
    };
    auto task = std::make_shared<Task>();
    task->work = std::move(work);
    auto answer = task->done.get_future();
    const bool queued = queue->try_submit([this, task](int worker) {
      if (task->abandoned) return;  // its client has had its 504 already
      const auto t = std::chrono::steady_clock::now();
      Reply reply;
      try {
        reply = task->work(*predictors[worker]);
      } catch (const ClientError& e) {
        reply = error_reply(e.status, e.code, e.what());
      } catch (const ImageError& e) {
        reply = error_reply(400, "bad_image", e.what());
      } catch (const ModelError& e) {
        reply = error_reply(500, "model_error", e.what());
      } catch (const std::exception& e) {
        reply = error_reply(500, "internal", e.what());
      }
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
      mean_job_s = 0.8 * mean_job_s + 0.2 * s;
      task->done.set_value(std::move(reply));
    });
    if (!queued) {
      // Time for the work ahead of this request to drain, at the recent pace.
      const double ahead = queue->queued() + queue->running();
      const int retry = std::max(1, static_cast<int>(std::ceil(ahead / queue->workers() * mean_job_s)));
      Reply busy = error_reply(503, "queue_full",
                               "all " + std::to_string(queue->workers()) + " workers are busy and " +
                                   std::to_string(queue->capacity()) +
                                   " requests are waiting; try again later");
      busy.headers.emplace_back("Retry-After", std::to_string(retry));
      return send(res, busy);
    }
    if (answer.wait_for(options.request_timeout) != std::future_status::ready) {
      task->abandoned = true;
      return send(res, error_reply(504, "timeout",
                                   "no answer within the request time limit of " +
                                       std::to_string(options.request_timeout.count()) + " ms"));
    }
    send(res, answer.get());
  }

  // Wraps a handler so that a client error or any exception becomes a JSON error.
  template <class F>
  httplib::Server::Handler guarded(F f) {
    return [f](const httplib::Request& req, httplib::Response& res) {
      try {
        f(req, res);
      } catch (const ClientError& e) {
        send(res, error_reply(e.status, e.code, e.what()));
      } catch (const std::exception& e) {
        send(res, error_reply(500, "internal", e.what()));
      }
    };
  }

  ordered_json health() const {
    const double uptime =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return {{"status", "ok"},
            {"version", CEPHTRACE_VERSION_STRING},
            {"degraded", degraded},
            {"workers", queue->workers()},
            {"queue", {{"capacity", queue->capacity()}, {"waiting", queue->queued()},
                       {"running", queue->running()}}},
            {"request_timeout_ms", options.request_timeout.count()},
            {"max_upload_bytes", options.max_upload_bytes},
            {"token_required", !options.token.empty()},
            {"open_image", options.open_image.empty() ? json(nullptr)
                                                      : json(options.open_image.filename().string())},
            {"uptime_s", std::round(uptime * 10) / 10}};
  }

  void setup_routes() {
    http.Get("/v1/health", guarded([this](const httplib::Request&, httplib::Response& res) {
      res.set_content(health().dump(), "application/json");
    }));
    http.Get("/v1/models", guarded([this](const httplib::Request&, httplib::Response& res) {
      res.set_content(models.dump(), "application/json");
    }));
    http.Get("/openapi.json", guarded([](const httplib::Request&, httplib::Response& res) {
      res.set_content(openapi_json(), "application/json");
    }));

    http.Post("/v1/predict", guarded([this](const httplib::Request& req, httplib::Response& res) {
      auto r = std::make_shared<PredictRequest>(parse_image_request(req, options.predictor));
      dispatch(res, [r](WorkerPredictors& predictors) {
        LoadedImage image = decode(*r);
        if (r->pixel_spacing_mm) image.pixel_spacing_mm = r->pixel_spacing_mm;
        const PredictionResult result = predictors.get(r->predictor).predict(image);
        auto j = to_json(result);
        if (r->analyze) {
          AnalysisOptions o;
          o.analyses = r->analyses;
          j["analysis"] = to_json(analyze(landmarks_from_result(result), o));
        }
        return Reply{200, j.dump(), "application/json", {}};
      });
    }));

    http.Post("/v1/overlay", guarded([this](const httplib::Request& req, httplib::Response& res) {
      auto r = std::make_shared<PredictRequest>(parse_image_request(req, options.predictor));
      dispatch(res, [r](WorkerPredictors& predictors) {
        LoadedImage image = decode(*r);
        const PredictionResult result = r->landmarks ? drawable(*r->landmarks, image.rgb)
                                                     : predictors.get(r->predictor).predict(image);
        const auto lines = r->analyze ? analysis_lines(landmarks_from_result(result))
                                      : std::vector<AnalysisLine>{};
        return Reply{200, png_of(draw_overlay(image.rgb, result, lines)), "image/png", {}};
      });
    }));

    // The decoded image as PNG, for browsers that cannot show TIFF or DICOM themselves.
    http.Post("/v1/decode", guarded([this](const httplib::Request& req, httplib::Response& res) {
      auto r = std::make_shared<PredictRequest>(parse_image_request(req, options.predictor));
      dispatch(res, [r](WorkerPredictors&) {
        const LoadedImage image = decode(*r);
        Reply reply{200, png_of(image.rgb), "image/png", {}};
        if (image.pixel_spacing_mm)
          reply.headers.emplace_back("X-Pixel-Spacing-Mm", std::to_string(*image.pixel_spacing_mm));
        return reply;
      });
    }));

    // The image given with --open, for the viewer to start with.
    http.Get("/v1/open-image", guarded([this](const httplib::Request&, httplib::Response& res) {
      if (options.open_image.empty())
        throw ClientError(404, "not_found", "the server was started without --open");
      std::ifstream in(options.open_image, std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (!in && !in.eof()) throw std::runtime_error("cannot read the --open image");
      res.set_header("Content-Disposition",
                     "inline; filename=\"" + options.open_image.filename().string() + "\"");
      res.set_content(bytes, "application/octet-stream");
    }));

    // Cheap (geometry only): answered on the connection's thread, not queued.
    http.Post("/v1/analyze", guarded([](const httplib::Request& req, httplib::Response& res) {
      const auto type = req.get_header_value("Content-Type");
      if (!type.empty() && !type.starts_with("application/json"))
        throw ClientError(415, "unsupported_media_type", "send the landmarks as application/json");
      json body;
      try {  // the library's parser: bounded nesting depth, no duplicate keys
        body = parse_json(req.body, "the request body");
      } catch (const std::exception& e) {
        throw ClientError(400, "bad_request", e.what());
      }
      AnalysisOptions o;
      o.pixel_spacing_mm = spacing_option(req);
      o.sn_scaled = bool_option(req, "sn_scale");
      o.allow_low_confidence = bool_option(req, "allow_low_confidence");
      o.analyses = analyses_option(req);
      OriginalImageLandmarks set;
      try {
        set = landmarks_from_json(body);
      } catch (const std::exception& e) {
        throw ClientError(400, "bad_request", e.what());
      }
      res.set_content(to_json(analyze(set, o)).dump(), "application/json");
    }));
  }

  void setup_server() {
    // Connection threads: enough for every worker and queue slot plus health checks and
    // refusals, so that a full queue is answered with 503 rather than left waiting.
    const size_t threads = options.workers + options.queue + 8;
    http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    http.set_payload_max_length(options.max_upload_bytes);
    http.set_read_timeout(30);
    http.set_write_timeout(30);

    http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      const bool api = req.path.starts_with("/v1/") || req.path == "/openapi.json";
      if (!api || options.token.empty()) return httplib::Server::HandlerResponse::Unhandled;
      const auto auth = req.get_header_value("Authorization");
      const std::string_view prefix = "Bearer ";
      if (auth.starts_with(prefix) && constant_time_equal(std::string_view(auth).substr(prefix.size()), options.token))
        return httplib::Server::HandlerResponse::Unhandled;
      res.set_header("WWW-Authenticate", "Bearer");
      send(res, error_reply(401, "unauthorized",
                            auth.empty() ? "this server needs 'Authorization: Bearer <token>'"
                                         : "wrong token"));
      return httplib::Server::HandlerResponse::Handled;
    });
    // httplib's own refusals (unknown route, too large, malformed) get a JSON body too.
    http.set_error_handler(httplib::Server::HandlerWithResponse(
        [](const httplib::Request& req, httplib::Response& res) {
          if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
          std::string message = "HTTP " + std::to_string(res.status);
          if (res.status == 400) message = "malformed HTTP request";
          if (res.status == 413) message = "the upload is larger than the server's --max-upload-mb";
          if (res.status == 404) message = "no such resource: " + req.method + " " + req.path;
          send(res, error_reply(res.status, default_code(res.status), message));
          return httplib::Server::HandlerResponse::Handled;
        }));
    http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
      send(res, error_reply(500, "internal", "unexpected error"));
    });
    if (options.log_requests)
      http.set_logger([](const httplib::Request& req, const httplib::Response& res) {
        std::fprintf(stderr, "%s %s %d\n", req.method.c_str(), req.path.c_str(), res.status);
      });
    if (!options.web_dir.empty() && !http.set_mount_point("/", options.web_dir.string()))
      throw std::invalid_argument(options.web_dir.string() + ": viewer folder not found");
    setup_routes();
  }
};

ApiServer::ApiServer(ServeOptions options) : impl_(std::make_unique<Impl>()) {
  auto& o = impl_->options;
  o = std::move(options);
  if (!is_loopback_host(o.host) && o.token.empty())
    throw std::invalid_argument("binding to " + o.host +
                                " (not loopback) needs --token: every API call must then carry "
                                "'Authorization: Bearer <token>'");
  if (o.workers < 1) throw std::invalid_argument("--workers must be at least 1");
  if (o.queue < 0) throw std::invalid_argument("--queue must not be negative");
  if (o.max_upload_bytes == 0) throw std::invalid_argument("--max-upload-mb must be positive");
  for (int w = 0; w < o.workers; ++w)
    impl_->predictors.push_back(std::make_unique<WorkerPredictors>(o.predictor));
  impl_->models = describe_models(o.predictor.model_dir, impl_->predictors.front()->standard);
  impl_->degraded = !impl_->predictors.front()->standard.stage0_available();
  impl_->queue = std::make_unique<serve::WorkQueue>(o.workers, o.queue);
  impl_->setup_server();
}

ApiServer::~ApiServer() {
  stop();
}

int ApiServer::bind() {
  auto& o = impl_->options;
  if (o.port == 0) {
    const int port = impl_->http.bind_to_any_port(o.host);
    if (port > 0) return port;
  } else if (impl_->http.bind_to_port(o.host, o.port)) {
    return o.port;
  }
  throw std::runtime_error("cannot listen on " + o.host + ":" + std::to_string(o.port) +
                           " (address in use, or not an address of this machine?)");
}

void ApiServer::listen() { impl_->http.listen_after_bind(); }

void ApiServer::stop() {
  if (impl_ && impl_->http.is_running()) impl_->http.stop();
}

const std::vector<ApiRoute>& ApiServer::routes() {
  static const std::vector<ApiRoute> r = {
      {"GET", "/v1/health"},   {"GET", "/v1/models"},   {"POST", "/v1/predict"},
      {"POST", "/v1/analyze"}, {"POST", "/v1/overlay"}, {"POST", "/v1/decode"},
      {"GET", "/v1/open-image"}, {"GET", "/openapi.json"}};
  return r;
}

}  // namespace cephtrace
