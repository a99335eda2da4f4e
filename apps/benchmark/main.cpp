// cephtrace_benchmark: times model loading and repeated predictions on one image.
//
//   cephtrace_benchmark --model-dir models --image samples/isbi2015_151.jpg --runs 5
//
// One Predictor is constructed (timed separately as "model load"), then `--warmup`
// untimed and `--runs` timed predictions are made on the image, through the library's batch
// runner (cephtrace/batch.hpp) as `cephtrace predict --image-dir` makes them. Per-stage times come from
// PredictionResult::timings_ms (the library's own stage names, in run order); the table
// gives the median and minimum over the timed runs, plus "wall", the end-to-end time of
// each image (reading it included) as the batch runner measures it. Peak resident memory is getrusage's
// ru_maxrss. "cpu" is the process CPU time per prediction; cpu/wall shows how many cores
// the run really got (a loaded machine gives fewer than --threads).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/core/utility.hpp>

#include "cephtrace/batch.hpp"
#include "cephtrace/predictor.hpp"
#include "../cephtrace/cli_util.hpp"  // the model options, as the cephtrace program has them

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux: KiB
}

// Process CPU time (user + system), ms.
double cpu_ms() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto ms = [](const timeval& tv) { return tv.tv_sec * 1000.0 + tv.tv_usec / 1000.0; };
  return ms(usage.ru_utime) + ms(usage.ru_stime);
}

// The 1-minute load average, or -1 when unavailable.
double load_average() {
  std::ifstream f("/proc/loadavg");
  double one = -1;
  f >> one;
  return f ? one : -1;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

// Stage name → its samples, in the order stages first appear.
struct StageSamples {
  std::string name;
  std::vector<double> ms;
};

void add_sample(std::vector<StageSamples>& stages, const std::string& name, double ms) {
  auto it = std::find_if(stages.begin(), stages.end(),
                         [&](const StageSamples& s) { return s.name == name; });
  if (it == stages.end()) {
    stages.push_back({name, {}});
    it = stages.end() - 1;
  }
  it->ms.push_back(ms);
}

}  // namespace

int main(int argc, char** argv) {
  cephtrace::keep_freed_memory();  // before any thread allocates (predictor.hpp)
  CLI::App app{"CephTrace benchmark: model load time, per-stage prediction times, peak memory"};
  cephtrace::cli::ModelArgs model;
  std::string image, json_out;
  int runs = 5, warmup = 1;
  app.add_option("--image", image, "Image to predict on")->required()->check(CLI::ExistingFile);
  app.add_option("--runs", runs, "Timed predictions")->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--warmup", warmup, "Untimed predictions before the timed ones")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--json", json_out, "Also write the results as JSON to this file");
  app.add_flag("--strict", model.strict, "Fail when a Stage 0 model is missing");
  cephtrace::cli::add_model_options(&app, model);
  CLI11_PARSE(app, argc, argv);

  try {
    const cephtrace::PredictorOptions options = cephtrace::cli::predictor_options(model);
    const std::string model_dir = options.model_dir.string();
    const int threads = options.threads;
    const std::string decoder = model.decoder;

    const double rss_start = peak_rss_mib();
    auto t = Clock::now();
    cephtrace::Predictor predictor(options);
    const double load_ms = ms_since(t);
    const double rss_loaded = peak_rss_mib();
    const int cv_threads = cv::getNumThreads();

    std::printf("model dir   %s\n", model_dir.c_str());
    std::printf("image       %s\n", image.c_str());
    std::string loaded;
    for (const auto& k : predictor.loaded_models()) loaded += (loaded.empty() ? "" : ", ") + k;
    std::printf("models      %s\n", loaded.c_str());
    for (const auto& [key, why] : predictor.missing_models())
      std::printf("  missing   %s: %s\n", key.c_str(), why.c_str());
    std::printf("threads     %d OpenCV (--threads %d), %u hardware threads\n", cv_threads,
                threads, std::thread::hardware_concurrency());
    std::printf("decoder     %s\n", decoder.c_str());
    std::printf("model load  %.1f ms\n", load_ms);

    // The same loop as `cephtrace predict --image-dir`, over copies of the one image.
    const auto fail_on_error = [](const cephtrace::BatchItem& item) {
      if (!item.ok()) throw std::runtime_error(item.error);  // it names the file
    };
    cephtrace::run_batch(predictor, std::vector<fs::path>(warmup, image), {}, fail_on_error);
    const double load_before = load_average();

    std::vector<StageSamples> stages;
    std::vector<nlohmann::json> per_run;
    bool degraded = false;
    std::string orientation, failed_phases;
    nlohmann::json stage0_status;
    double cpu_before = cpu_ms();  // CPU time per run: from one callback to the next
    cephtrace::run_batch(predictor, std::vector<fs::path>(runs, image), {}, [&](const cephtrace::BatchItem& item) {
      fail_on_error(item);
      const double cpu = cpu_ms() - cpu_before;
      const cephtrace::PredictionResult& r = *item.result;
      nlohmann::json run = nlohmann::json::object();
      for (const auto& [stage, ms] : r.timings_ms) {
        const std::string name(cephtrace::stage_name(stage));
        add_sample(stages, name, ms);
        run[name] = ms;
      }
      add_sample(stages, "wall", item.ms);
      add_sample(stages, "cpu", cpu);
      run["wall"] = item.ms;
      run["cpu"] = cpu;
      per_run.push_back(std::move(run));
      degraded = degraded || r.degraded;
      orientation = std::string(cephtrace::orientation_name(r.orientation));
      stage0_status = r.stage0_status;
      cpu_before = cpu_ms();
    });
    const double rss_end = peak_rss_mib();
    const double load_after = load_average();

    for (const auto& [phase, ok] : stage0_status.items())
      if (ok.is_boolean() && !ok.get<bool>()) failed_phases += " " + phase;
    std::printf("result      facing %s%s%s%s\n\n", orientation.c_str(),
                degraded ? ", DEGRADED" : "",
                failed_phases.empty() ? "" : " (Stage 0 phases failed:",
                failed_phases.empty() ? "" : (failed_phases + ")").c_str());
    std::printf("%-22s %10s %10s %5s\n", "stage", "median ms", "min ms", "n");
    nlohmann::json stage_json = nlohmann::json::array();
    for (const auto& s : stages) {
      const double med = median(s.ms);
      const double mn = *std::min_element(s.ms.begin(), s.ms.end());
      std::printf("%-22s %10.1f %10.1f %5zu\n", s.name.c_str(), med, mn, s.ms.size());
      stage_json.push_back({{"stage", s.name}, {"median_ms", med}, {"min_ms", mn},
                            {"max_ms", *std::max_element(s.ms.begin(), s.ms.end())},
                            {"n", s.ms.size()}});
    }
    std::printf("\npeak RSS    %.1f MiB (after model load %.1f MiB, at start %.1f MiB)\n",
                rss_end, rss_loaded, rss_start);
    std::printf("load avg    %.2f before, %.2f after the timed runs (1 min, /proc/loadavg)\n",
                load_before, load_after);

    if (!json_out.empty()) {
      nlohmann::json j = {
          {"model_dir", model_dir},
          {"image", image},
          {"runs", runs},
          {"warmup", warmup},
          {"threads_requested", threads},
          {"opencv_threads", cv_threads},
          {"hardware_threads", std::thread::hardware_concurrency()},
          {"decoder", decoder},
          {"models_loaded", predictor.loaded_models()},
          {"degraded", degraded},
          {"orientation", orientation},
          {"stage0_status", stage0_status},
          {"model_load_ms", load_ms},
          {"peak_rss_mib", rss_end},
          {"rss_after_load_mib", rss_loaded},
          {"load_average_before", load_before},
          {"load_average_after", load_after},
          {"stages", stage_json},
          {"per_run_ms", per_run},
      };
      std::ofstream f(json_out);
      if (!f) throw std::runtime_error("cannot write " + json_out);
      f << j.dump(2) << "\n";
      if (!f) throw std::runtime_error("cannot write " + json_out);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cephtrace_benchmark: %s\n", e.what());
    return 1;
  }
  return 0;
}
