// End-to-end accuracy of the shipped models on real ISBI Test1 images (never used for
// training): a guard against accuracy regressions and a check that Stage 2 helps. The
// full figures come from `cephtrace evaluate --protocol isbi2015` (docs/results/).
#include <cmath>
#include <filesystem>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include "cephtrace/constants.hpp"
#include "cephtrace/ground_truth.hpp"
#include "cephtrace/model_contract.hpp"
#include "cephtrace/predictor.hpp"
#include "test_support.hpp"

namespace cephtrace {
namespace {

// Mean radial error (mm at ISBI's 0.1 mm/px) over the 19 ISBI landmarks of `truth`.
double mean_error_mm(Predictor& predictor, const std::filesystem::path& images,
                     const std::vector<GroundTruth>& truth) {
  double sum = 0;
  int n = 0;
  for (const auto& gt : truth) {
    const auto r = predictor.predict(images / (gt.stem + ".jpg"));
    for (const auto& name : isbi_landmark_names()) {
      const NamedPoint* p = gt.find(name);
      if (!p) continue;
      for (const auto& l : r.landmarks)
        if (l.name == name) {
          sum += std::hypot(l.x - p->x, l.y - p->y) * constants::kIsbiPixelSpacingMm;
          ++n;
        }
    }
  }
  EXPECT_EQ(n, 19 * static_cast<int>(truth.size()));
  return sum / std::max(n, 1);
}

TEST(AccuracyIsbi, ShippedModelsOnTest1ImagesAndStage2Helps) {
  CEPHTRACE_REQUIRE_ISBI(isbi);
  const auto shipped = test::shipped_models_dir();
  if (!shipped || !std::filesystem::exists(*shipped / refine_contract().relative_path))
    GTEST_SKIP() << "shipped models/ (with stage2/refine.onnx) incomplete; skipping";
  auto truth = import_isbi_senior(isbi / "annotations" / "senior" / "test1_senior.csv").records;
  ASSERT_GE(truth.size(), 12u);
  truth.resize(12);  // 151-162: a quick sample

  PredictorOptions o;
  o.model_dir = *shipped;
  o.threads = 2;
  Predictor refined(o);
  o.refine_passes = 0;
  Predictor stage1_only(o);
  const double with_stage2 = mean_error_mm(refined, isbi / "images", truth);
  const double without = mean_error_mm(stage1_only, isbi / "images", truth);
  std::cout << "[ accuracy ] Test1 151-162 MRE: Stage 1 only " << without << " mm, with Stage 2 "
            << with_stage2 << " mm\n";
  EXPECT_LT(with_stage2, without);
  EXPECT_LT(with_stage2, 1.5);  // issue 4's bar (the full Test1 figure is in docs/results)
}

}  // namespace
}  // namespace cephtrace
