// `cephtrace download-weights`: fetch the published CephTrace v4 weights into a model
// directory (see docs/download.md).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cephtrace/download.hpp"
#include "cephtrace/model_contract.hpp"
#include "commands.hpp"

namespace cephtrace::cli {
namespace {

// A one-line "\r" progress display on a terminal, redrawn at most a few times a second.
class ProgressLine {
 public:
  void update(const DownloadProgress& p) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    char line[160];
    const double mb = 1e6;
    char eta[32] = "?";
    if (p.eta_seconds >= 0) std::snprintf(eta, sizeof eta, "%.0fs", p.eta_seconds);
    std::snprintf(line, sizeof line, "\r  %-38s %8.2f / %.2f MB  %6.2f MB/s  ETA %s   ",
                  std::string(p.relative_path).c_str(), double(p.bytes_done) / mb,
                  double(p.bytes_total) / mb, p.bytes_per_second / mb, eta);
    std::cerr << line << std::flush;
    shown_ = true;
  }
  void clear() {
    if (shown_) std::cerr << "\r" << std::string(100, ' ') << "\r" << std::flush;
    shown_ = false;
  }

 private:
  std::chrono::steady_clock::time_point last_{};
  bool shown_ = false;
};

}  // namespace

CommandRunner add_download_command(CLI::App& app) {
  auto opt = std::make_shared<DownloadOptions>(download_options_from_environment());
  auto* cmd = app.add_subcommand(
      "download-weights",
      "Download the published CephTrace v4 model weights (the seven ONNX files, kept flat in "
      "the hub repository) into a model directory of their own, laid out as stage0/ and "
      "stage1/; use it with `predict --model-dir`. Never writes into a folder holding a "
      "MANIFEST.sha256 (the shipped models/). Resumes interrupted downloads; verifies size "
      "and sha256.");
  std::vector<std::string> names;
  for (const auto& c : model_contracts()) names.emplace_back(c.name);

  cmd->add_option("--output,-o", opt->output_dir,
                  "Model directory to fill (its own folder: refused when it holds a "
                  "MANIFEST.sha256, as the shipped models/ does)")
      ->capture_default_str();
  cmd->add_option("--repo-id", opt->repo_id, "Hub repository holding the weights")
      ->capture_default_str();
  cmd->add_option("--revision", opt->revision, "Branch, tag or commit of the repository")
      ->capture_default_str();
  cmd->add_option("--endpoint", opt->endpoint,
                  "Hub base URL (default: $HF_ENDPOINT, else https://huggingface.co)");
  cmd->add_option("--only", opt->keys, "Download only these models")
      ->check(CLI::IsMember(names));
  cmd->add_flag("--force", opt->force,
                "Download again even when a file is already present (and drop partial data)");

  return [opt] {
    const bool tty = ::isatty(STDERR_FILENO);
    ProgressLine progress;
    if (tty) opt->on_progress = [&](const DownloadProgress& p) { progress.update(p); };
    opt->on_file_done = [&](const FileOutcome& f) {
      progress.clear();
      const char* tag = f.status == DownloadStatus::Failed ? "FAILED " : "";
      std::cerr << "  " << tag << f.message << "\n";
    };

    std::cerr << "Fetching CephTrace weights from " << weights_url(*opt, "") << " into "
              << opt->output_dir.string() << "\n";
    const DownloadReport report = download_weights(*opt);
    std::cerr << report.count(DownloadStatus::Downloaded) << " downloaded, "
              << report.count(DownloadStatus::Skipped) << " already present, "
              << report.count(DownloadStatus::Failed) << " failed\n";
    if (!report.ok())
      std::cerr << "cephtrace download-weights: some files are missing; run the command again "
                   "once the problem above is fixed (partial downloads resume)\n";
    return report.ok() ? 0 : 1;
  };
}

}  // namespace cephtrace::cli
