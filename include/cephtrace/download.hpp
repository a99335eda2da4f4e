// Fetching the published CephTrace v4 weights (spec §2) from a Hugging Face-style hub. The hub
// repository keeps the seven files flat at its root; they land in the model layout:
// {endpoint}/{repo_id}/resolve/{revision}/{file name} -> {output_dir}/{stage0|stage1}/{file name}
// (as the reference's download_weights.py maps them).
//
// Safety: data is written to <file>.part (kept for resuming with an HTTP Range request)
// and renamed onto the final name only once its size — and its sha256 when the server
// announces one — has been verified, so the engine never sees a half-written model.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace cephtrace {

inline constexpr std::string_view kDefaultHubEndpoint = "https://huggingface.co";
inline constexpr std::string_view kDefaultWeightsRepo = "CephTrace/cephtrace-v4";
inline constexpr std::string_view kDefaultWeightsRevision = "main";
inline constexpr std::string_view kDefaultWeightsDir = "models-published";

// Progress of the file being downloaded (bytes count the resumed part too).
struct DownloadProgress {
  std::string_view key;            // model contract name: "profile", ... "stage1"
  std::string_view relative_path;  // e.g. "stage1/v4_stage1.onnx"
  std::uint64_t bytes_done = 0;
  std::uint64_t bytes_total = 0;   // 0 while unknown
  double bytes_per_second = 0;     // of this transfer
  double eta_seconds = -1;         // < 0 while unknown
};

enum class DownloadStatus { Downloaded, Skipped, Failed };

struct FileOutcome {
  std::string key;
  std::filesystem::path path;  // final location under output_dir
  DownloadStatus status = DownloadStatus::Failed;
  std::uint64_t bytes = 0;     // size of the file now in place (0 when failed)
  std::string message;         // why skipped / why it failed (names the file)
};

struct DownloadReport {
  std::vector<FileOutcome> files;  // in model-contract order
  bool ok() const;                 // no file failed
  int count(DownloadStatus status) const;
};

struct DownloadOptions {
  std::string endpoint{kDefaultHubEndpoint};
  std::string repo_id{kDefaultWeightsRepo};
  std::string revision{kDefaultWeightsRevision};
  // A folder of its own by default: never the shipped models/ (see download_weights).
  std::filesystem::path output_dir{kDefaultWeightsDir};
  std::vector<std::string> keys;  // model contract names; empty = all seven
  bool force = false;             // re-download files already present (and drop any .part)
  std::string token;              // sent as "Authorization: Bearer <token>" when non-empty

  // Expected size in bytes per key for the "already present" rule (a file larger than
  // half of it is kept); defaults to the contract's published_size_mb. Tests inject
  // tiny sizes here.
  std::map<std::string, std::uint64_t> expected_sizes;

  std::chrono::seconds connect_timeout{30};
  std::chrono::seconds stall_timeout{60};  // give up when no byte arrives for this long
  int max_attempts = 3;  // per file; a dropped connection is retried, resuming
  // When the server announces no sha256, a file must load as an ONNX model matching its
  // contract before it replaces anything (tests of the transfer itself serve random bytes).
  bool check_model_without_checksum = true;

  std::function<void(const DownloadProgress&)> on_progress;  // optional
  std::function<void(const FileOutcome&)> on_file_done;      // optional, as each file ends
};

// Defaults plus the hub clients' environment: HF_ENDPOINT overrides the endpoint and
// HF_TOKEN supplies the access token.
DownloadOptions download_options_from_environment();

// The name of a model file in the hub repository: the file name of its path in the model
// layout ("stage0/v4_stage0_profile.onnx" -> "v4_stage0_profile.onnx"). The model contract
// table is the one list of files; the hub's flat layout is derived from it.
std::string hub_file_name(std::string_view relative_path);

// {endpoint}/{repo_id}/resolve/{revision}/{hub_path}; the revision is percent-encoded (so
// "refs/pr/1" works), a trailing '/' on the endpoint is ignored.
std::string weights_url(const DownloadOptions& options, std::string_view hub_path);

// The expected size in bytes of a model file for the "already present" rule.
std::uint64_t expected_size_bytes(const DownloadOptions& options, std::string_view key);

// Fetches the requested files one after the other. Per-file problems (404, size or
// sha256 mismatch) are reported and the others still fetched; problems that would hit
// every file (no network, 401/403, disk full) stop the run, the rest reported as not
// attempted. Throws std::invalid_argument for an unknown key in options.keys, and when
// options.output_dir holds a MANIFEST.sha256: such a folder's files are pinned by checksum
// (the shipped models/ is one), and the published weights would overwrite them.
DownloadReport download_weights(const DownloadOptions& options);

}  // namespace cephtrace
