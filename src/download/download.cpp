#include "cephtrace/download.hpp"

#include <curl/curl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <system_error>

#include "cephtrace/model_contract.hpp"

#include "core/onnx_model.hpp"
#include "download/sha256.hpp"
#include "pipeline/model_manifest.hpp"  // kModelManifest only (header-only constant)

namespace fs = std::filesystem;

namespace cephtrace {
namespace {

constexpr double kBytesPerMB = 1e6;

// Why one file could not be fetched. `stop_run`: the cause would hit every other file
// too (no network, bad credentials, disk full). `retry`: worth another attempt now,
// resuming from the .part (a dropped connection).
struct FetchError : std::runtime_error {
  FetchError(const std::string& what, bool stop_run, bool retry = false)
      : std::runtime_error(what), stop_run(stop_run), retry(retry) {}
  bool stop_run;
  bool retry;
};

void init_curl_once() {
  struct Global {
    Global() { curl_global_init(CURL_GLOBAL_DEFAULT); }
    ~Global() { curl_global_cleanup(); }
  };
  static Global global;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  return std::string(s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1));
}

std::optional<std::uint64_t> parse_u64(std::string_view s) {
  s = std::string_view(s).substr(0, s.find_first_not_of("0123456789"));
  if (s.empty()) return std::nullopt;
  return std::strtoull(std::string(s).c_str(), nullptr, 10);
}

// A sha256 from an ETag-like header (the hub's X-Linked-Etag for LFS files), or "".
// Git blob ETags (40 hex) and opaque CDN ETags are not sha256 digests and are ignored.
std::string sha256_from_etag(std::string value) {
  if (value.rfind("W/", 0) == 0) value.erase(0, 2);
  value.erase(std::remove(value.begin(), value.end(), '"'), value.end());
  value = lower(value);
  const bool hex64 = value.size() == 64 && value.find_first_not_of("0123456789abcdef") ==
                                               std::string::npos;
  return hex64 ? value : "";
}

std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += char(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string mb(std::uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f MB", double(bytes) / kBytesPerMB);
  return buf;
}

// One HTTP GET of a file into its .part, resuming from what is already there.
class Transfer {
 public:
  Transfer(const DownloadOptions& opt, const ModelContract& contract, fs::path part)
      : opt_(opt), contract_(contract), part_(std::move(part)) {}

  // Returns when the .part holds the whole body of a 200/206 response; throws FetchError.
  void run() {
    std::error_code ec;
    resume_from_ = fs::exists(part_, ec) ? fs::file_size(part_, ec) : 0;
    if (ec) resume_from_ = 0;
    url_ = weights_url(opt_, hub_file_name(contract_.relative_path));

    CURL* curl = curl_easy_init();
    if (!curl) throw FetchError(rel() + ": cannot initialise libcurl", true);
    curl_slist* headers = nullptr;
    const std::string auth = "Authorization: Bearer " + opt_.token;
    // libcurl drops this header when a redirect leads to another host (the hub's CDN).
    if (!opt_.token.empty()) headers = curl_slist_append(headers, auth.c_str());
    const std::string range = std::to_string(resume_from_) + "-";
    char errbuf[CURL_ERROR_SIZE] = "";

    curl_easy_setopt(curl, CURLOPT_URL, url_.c_str());
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);  // the hub redirects LFS files
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "cephtrace/0.1 download-weights");
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, long(opt_.connect_timeout.count()));
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, long(opt_.stall_timeout.count()));
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    if (resume_from_ > 0) curl_easy_setopt(curl, CURLOPT_RANGE, range.c_str());
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &Transfer::on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, this);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Transfer::on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, &Transfer::on_progress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, this);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);

    start_ = std::chrono::steady_clock::now();
    const CURLcode code = curl_easy_perform(curl);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);

    const bool ok_status = status_ == 200 || status_ == 206;
    if (code == CURLE_OK && ok_status && !out_ && !sink_error_) open_sink();  // empty body
    close_sink();
    if (write_errno_ != 0) throw write_error();
    if (sink_error_) {  // the server resumed from elsewhere than asked: start over
      fs::remove(part_, ec);
      throw FetchError(rel() + ": the server answered the resume request with an unexpected "
                       "range; starting again from zero", false, true);
    }
    if (code != CURLE_OK) throw curl_error(code, errbuf);
    check_status();
  }

  std::uint64_t announced_total() const { return total_; }
  std::optional<std::uint64_t> linked_size() const { return linked_size_; }
  // The sha256 the server announced for the file ("" when none).
  std::string announced_sha256() const {
    return !linked_sha256_.empty() ? linked_sha256_ : sha256_from_etag(header("etag"));
  }

 private:
  std::string rel() const { return std::string(contract_.relative_path); }

  std::string header(const std::string& name) const {
    auto it = headers_.find(name);
    return it == headers_.end() ? "" : it->second;
  }

  // Called once per header line of every response in the redirect chain.
  static size_t on_header(char* data, size_t size, size_t n, void* self_) {
    auto* self = static_cast<Transfer*>(self_);
    const std::string_view line(data, size * n);
    if (line.rfind("HTTP/", 0) == 0) {  // a new response: forget the previous one's headers
      const auto sp = std::min(line.find(' '), line.size() - 1);
      self->status_ = long(parse_u64(line.substr(sp + 1)).value_or(0));
      self->headers_.clear();
    } else if (const auto colon = line.find(':'); colon != std::string_view::npos) {
      const std::string name = lower(std::string(line.substr(0, colon)));
      const std::string value = trim(line.substr(colon + 1));
      self->headers_[name] = value;
      // The hub puts the LFS file's sha256 and size on its redirect, not on the CDN reply.
      if (name == "x-linked-etag") self->linked_sha256_ = sha256_from_etag(value);
      if (name == "x-linked-size") self->linked_size_ = parse_u64(value);
    }
    return size * n;
  }

  static size_t on_body(char* data, size_t size, size_t n, void* self_) {
    auto* self = static_cast<Transfer*>(self_);
    if (self->status_ != 200 && self->status_ != 206) return size * n;  // an error page: drop
    if (!self->out_ && !self->open_sink()) return 0;
    if (std::fwrite(data, 1, size * n, self->out_) != size * n) {
      self->write_errno_ = errno;
      return 0;  // makes libcurl abort with CURLE_WRITE_ERROR
    }
    return size * n;
  }

  static int on_progress(void* self_, curl_off_t, curl_off_t dlnow, curl_off_t, curl_off_t) {
    auto* self = static_cast<Transfer*>(self_);
    if (!self->out_ || !self->opt_.on_progress) return 0;
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - self->start_).count();
    DownloadProgress p;
    p.key = self->contract_.name;
    p.relative_path = self->contract_.relative_path;
    p.bytes_done = self->base_ + std::uint64_t(dlnow);
    p.bytes_total = self->total_;
    p.bytes_per_second = elapsed > 0 ? double(dlnow) / elapsed : 0;
    if (p.bytes_per_second > 0 && p.bytes_total >= p.bytes_done)
      p.eta_seconds = double(p.bytes_total - p.bytes_done) / p.bytes_per_second;
    try {
      self->opt_.on_progress(p);
    } catch (...) {  // an exception must not cross libcurl's C frames: abort instead
      return 1;
    }
    return 0;
  }

  // Opens the .part at the first body byte, now that the status says how: 206 appends to
  // the data already there, 200 (a server ignoring Range, or a fresh start) rewrites it.
  bool open_sink() {
    if (status_ == 206) {
      const std::string cr = header("content-range");  // "bytes START-END/TOTAL"
      const auto start = parse_u64(cr.substr(std::min(cr.find(' ') + 1, cr.size())));
      const auto slash = cr.find('/');
      if (start != resume_from_ || slash == std::string::npos) {
        sink_error_ = true;
        return false;
      }
      base_ = resume_from_;
      total_ = parse_u64(cr.substr(slash + 1)).value_or(0);
    } else {
      base_ = 0;
      total_ = parse_u64(header("content-length")).value_or(0);
    }
    received_ = true;
    out_ = std::fopen(part_.c_str(), status_ == 206 ? "ab" : "wb");
    if (!out_) write_errno_ = errno;
    return out_ != nullptr;
  }

  // Flushes to disk (so a rename after a crash never exposes unwritten data) and closes.
  void close_sink() {
    if (!out_) return;
    if ((std::fflush(out_) != 0 || ::fsync(fileno(out_)) != 0) && write_errno_ == 0)
      write_errno_ = errno;
    if (std::fclose(out_) != 0 && write_errno_ == 0) write_errno_ = errno;
    out_ = nullptr;
  }

  FetchError write_error() const {
    std::string msg = "cannot write " + part_.string() + ": " + std::strerror(write_errno_);
    if (write_errno_ == ENOSPC || write_errno_ == EDQUOT)
      msg += " — the disk is full: free some space and run again (the partial file is kept "
             "and the download resumes)";
    return FetchError(msg, true);
  }

  FetchError curl_error(CURLcode code, const char* errbuf) const {
    const std::string detail = *errbuf ? errbuf : curl_easy_strerror(code);
    switch (code) {
      case CURLE_COULDNT_RESOLVE_HOST:
      case CURLE_COULDNT_RESOLVE_PROXY:
        return FetchError(rel() + ": cannot resolve the host of " + opt_.endpoint + " (" + detail +
                          "): no network or a DNS failure — check the connection, or set "
                          "--endpoint / HF_ENDPOINT", true);
      case CURLE_COULDNT_CONNECT:
        return FetchError(rel() + ": cannot connect to " + opt_.endpoint + " (" + detail +
                          "): check the network, or set --endpoint / HF_ENDPOINT", true);
      case CURLE_OPERATION_TIMEDOUT:
        if (!received_)
          return FetchError(rel() + ": timed out reaching " + opt_.endpoint + " (" + detail +
                            "): check the network, or set --endpoint / HF_ENDPOINT", true);
        [[fallthrough]];
      case CURLE_PARTIAL_FILE:
      case CURLE_RECV_ERROR:
      case CURLE_GOT_NOTHING:
      case CURLE_SEND_ERROR:
      case CURLE_HTTP2_STREAM: {
        std::error_code ec;
        const auto have = fs::exists(part_, ec) ? fs::file_size(part_, ec) : 0;
        return FetchError(rel() + ": the connection dropped (" + detail + ") after " +
                          std::to_string(have) + " of " +
                          (total_ ? std::to_string(total_) : std::string("?")) +
                          " bytes; run again to resume", false, true);
      }
      default:
        return FetchError(rel() + ": download from " + url_ + " failed: " + detail, true);
    }
  }

  void check_status() {
    const std::string where = rel() + " (" + url_ + ")";
    switch (status_) {
      case 200:
      case 206:
        return;
      case 416: {  // the .part is not a prefix of the remote file (it changed?): start over
        std::error_code ec;
        fs::remove(part_, ec);
        throw FetchError(rel() + ": the server refused to resume (HTTP 416); starting again",
                         false, true);
      }
      case 401:
        throw FetchError("HTTP 401 Unauthorized for " + where + ": " +
                             (opt_.token.empty() ? "this repository needs an access token: "
                                                   "set HF_TOKEN to a token with read access"
                                                 : "the token in HF_TOKEN was rejected: check "
                                                   "that it is valid and has read access"),
                         true);
      case 403:
        throw FetchError("HTTP 403 Forbidden for " + where +
                             ": access denied — if the repository is gated, accept its terms "
                             "on the hub with your account and set HF_TOKEN to that account's "
                             "token",
                         true);
      case 404:
        throw FetchError("HTTP 404 Not Found for " + where +
                             ": check --repo-id, --revision and --endpoint",
                         false);
      default:
        throw FetchError("HTTP " + std::to_string(status_) + " for " + where, status_ >= 500);
    }
  }

  const DownloadOptions& opt_;
  const ModelContract& contract_;
  fs::path part_;
  std::string url_;
  std::uint64_t resume_from_ = 0;
  std::chrono::steady_clock::time_point start_;

  long status_ = 0;
  std::map<std::string, std::string> headers_;  // of the latest response, names lower-case
  std::string linked_sha256_;
  std::optional<std::uint64_t> linked_size_;

  std::FILE* out_ = nullptr;
  std::uint64_t base_ = 0;   // bytes of the file before this response's body
  std::uint64_t total_ = 0;  // full size announced by the server (0: unknown)
  int write_errno_ = 0;
  bool sink_error_ = false;
  bool received_ = false;  // a 200/206 body started arriving
};

// Fetches one file into place, or throws FetchError. The final name only ever receives a
// complete, verified file (a rename of the .part).
std::uint64_t fetch_file(const DownloadOptions& opt, const ModelContract& contract,
                         const fs::path& final_path) {
  const fs::path part = final_path.string() + ".part";
  const std::string rel(contract.relative_path);
  std::error_code ec;
  fs::create_directories(final_path.parent_path(), ec);
  if (ec)
    throw FetchError(rel + ": cannot create " + final_path.parent_path().string() + ": " +
                         ec.message(),
                     true);
  if (opt.force) fs::remove(part, ec);  // --force: no trust in an earlier partial either

  std::optional<Transfer> transfer;
  for (int attempt = 1;; ++attempt) {
    try {
      transfer.emplace(opt, contract, part);  // fresh state; resumes from the .part
      transfer->run();
      break;
    } catch (const FetchError& e) {
      if (!e.retry || attempt >= std::max(1, opt.max_attempts)) throw;
    }
  }

  // Verify before exposing the file; bad data is deleted so that a rerun starts afresh.
  auto reject = [&](const std::string& why) {
    fs::remove(part, ec);
    return FetchError(rel + ": " + why, false);
  };
  const std::uint64_t size = fs::file_size(part);
  if (transfer->announced_total() && size != transfer->announced_total())
    throw reject("size mismatch: got " + std::to_string(size) + " bytes, the server announced " +
                 std::to_string(transfer->announced_total()));
  if (transfer->linked_size() && size != *transfer->linked_size())
    throw reject("size mismatch: got " + std::to_string(size) + " bytes, the hub lists " +
                 std::to_string(*transfer->linked_size()));
  const std::uint64_t expected = expected_size_bytes(opt, contract.name);
  if (2 * size <= expected)
    throw reject("got only " + std::to_string(size) + " bytes where the published file has " +
                 mb(expected) + ": not the model (an error page or a Git LFS pointer?); check "
                 "--endpoint, --repo-id and --revision");
  if (const std::string sha = transfer->announced_sha256(); !sha.empty()) {
    const std::string got = detail::sha256_file_hex(part);
    if (got != sha)
      throw reject("sha256 mismatch: got " + got + ", the server announced " + sha +
                   " (corrupted download; run again)");
  } else if (opt.check_model_without_checksum) {
    // No checksum to compare with: the file must at least be an ONNX model that loads and
    // matches its contract (the zone models' channel count is judged at run time).
    try {
      OnnxModel::load(part, contract, false, true);
    } catch (const ModelError& e) {
      throw reject(std::string("not a usable model (the server sent no checksum): ") + e.what());
    }
  }
  fs::rename(part, final_path, ec);  // atomic on POSIX: old file or new file, never half
  if (ec)
    throw FetchError("cannot rename " + part.string() + " to " + final_path.string() + ": " +
                         ec.message(),
                     true);
  return size;
}

}  // namespace

bool DownloadReport::ok() const { return count(DownloadStatus::Failed) == 0; }

int DownloadReport::count(DownloadStatus status) const {
  return int(std::count_if(files.begin(), files.end(),
                           [&](const FileOutcome& f) { return f.status == status; }));
}

DownloadOptions download_options_from_environment() {
  DownloadOptions opt;
  if (const char* e = std::getenv("HF_ENDPOINT"); e && *e) opt.endpoint = e;
  if (const char* t = std::getenv("HF_TOKEN"); t && *t) opt.token = t;
  return opt;
}

std::string hub_file_name(std::string_view relative_path) {
  return fs::path(relative_path).filename().string();
}

std::string weights_url(const DownloadOptions& options, std::string_view hub_path) {
  std::string endpoint = options.endpoint;
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  return endpoint + "/" + options.repo_id + "/resolve/" + percent_encode(options.revision) +
         "/" + std::string(hub_path);
}

std::uint64_t expected_size_bytes(const DownloadOptions& options, std::string_view key) {
  if (auto it = options.expected_sizes.find(std::string(key)); it != options.expected_sizes.end())
    return it->second;
  for (const auto& c : model_contracts())
    if (c.name == key) return std::uint64_t(c.published_size_mb * kBytesPerMB);
  throw std::invalid_argument("unknown model key '" + std::string(key) + "'");
}

DownloadReport download_weights(const DownloadOptions& options) {
  std::string known;
  for (const auto& c : model_contracts())
    known += (known.empty() ? "" : ", ") + std::string(c.name);
  for (const auto& k : options.keys)
    if (std::none_of(model_contracts().begin(), model_contracts().end(),
                     [&](const ModelContract& c) { return c.name == k; }))
      throw std::invalid_argument("unknown model key '" + k + "' (expected one of: " + known + ")");
  // A manifest pins every model file of its folder by checksum (the shipped models/ has one):
  // the published weights would overwrite those files and fail the predictor's check.
  std::error_code ec;
  if (const fs::path manifest = options.output_dir / kModelManifest; fs::exists(manifest, ec))
    throw std::invalid_argument(
        "refusing to download into " + options.output_dir.string() + ": it holds " +
        manifest.string() + ", so its models are pinned by checksum (such as the models "
        "shipped in the repository) and would be overwritten; choose another --output (the "
        "default is " + std::string(kDefaultWeightsDir) + ")");

  init_curl_once();
  DownloadReport report;
  std::string stopped_by;  // the file whose error stopped the run
  for (const auto& c : model_contracts()) {
    if (!options.keys.empty() &&
        std::find(options.keys.begin(), options.keys.end(), c.name) == options.keys.end())
      continue;
    FileOutcome out;
    out.key = c.name;
    out.path = options.output_dir / c.relative_path;
    std::error_code ec;
    const std::uint64_t present =
        fs::is_regular_file(out.path, ec) ? fs::file_size(out.path, ec) : 0;

    if (!options.force && 2 * present > expected_size_bytes(options, c.name)) {
      // The reference's rule: more than half the published size counts as present.
      out.status = DownloadStatus::Skipped;
      out.bytes = present;
      out.message = std::string(c.relative_path) + ": already present (" + mb(present) +
                    "); use --force to download it again";
    } else if (!stopped_by.empty()) {
      out.message = std::string(c.relative_path) + ": not attempted (stopped after the error on " +
                    stopped_by + ")";
    } else {
      try {
        out.bytes = fetch_file(options, c, out.path);
        out.status = DownloadStatus::Downloaded;
        out.message = std::string(c.relative_path) + ": downloaded (" + mb(out.bytes) + ")";
      } catch (const FetchError& e) {
        out.message = e.what();
        if (e.stop_run) stopped_by = std::string(c.relative_path);
      } catch (const std::exception& e) {  // filesystem errors while verifying
        out.message = std::string(c.relative_path) + ": " + e.what();
        stopped_by = std::string(c.relative_path);
      }
    }
    if (options.on_file_done) options.on_file_done(out);
    report.files.push_back(std::move(out));
  }
  return report;
}

}  // namespace cephtrace
