// The batch runner with the tiny fixture models: order, failures, options, the callback.
#include "cephtrace/batch.hpp"

#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include "test_support.hpp"

namespace cephtrace {
namespace {

namespace fs = std::filesystem;

Predictor fixture_predictor() {
  PredictorOptions o;
  o.model_dir = test::fixture_models_dir();
  o.threads = 1;
  o.framing = false;  // one pass per image is enough here
  return Predictor(o);
}

// Two readable images of different sizes and, between them, a file that is not an image.
std::vector<fs::path> mixed_images(const fs::path& dir) {
  cv::imwrite((dir / "a.png").string(), test::synthetic_cephalogram({300, 360}));
  std::ofstream(dir / "b.png") << "not an image";
  cv::imwrite((dir / "c.png").string(), test::synthetic_cephalogram({320, 400}));
  return {dir / "a.png", dir / "b.png", dir / "c.png"};
}

TEST(Batch, ReportsEveryImageInOrderAndGoesOnAfterAFailure) {
  Predictor predictor = fixture_predictor();
  const auto images = mixed_images(test::temp_dir());
  std::vector<BatchItem> seen;
  const auto summary = run_batch(predictor, images, {}, [&](const BatchItem& item) { seen.push_back(item); });
  ASSERT_EQ(seen.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(seen[i].index, i);
    EXPECT_EQ(seen[i].total, 3u);
    EXPECT_EQ(seen[i].image, images[i]);
  }
  ASSERT_TRUE(seen[0].ok());
  EXPECT_EQ(seen[0].result->original_width, 300);
  EXPECT_FALSE(seen[1].ok());
  EXPECT_NE(seen[1].error.find("b.png"), std::string::npos) << seen[1].error;
  ASSERT_TRUE(seen[2].ok());
  EXPECT_EQ(seen[2].result->original_width, 320);
  EXPECT_EQ(summary.succeeded, 2u);
  EXPECT_EQ(summary.failed, 1u);
  // Reading the file is part of the run, and timed like Predictor::predict(path) times it.
  EXPECT_EQ(seen[0].result->timings_ms.front().first, TimedStage::LoadImage);
  EXPECT_TRUE(seen[0].rgb.empty());  // pixels only with keep_pixels
}

TEST(Batch, AppliesTheOptions) {
  Predictor predictor = fixture_predictor();
  const fs::path image = test::temp_dir() / "a.png";
  cv::imwrite(image.string(), test::synthetic_cephalogram({300, 360}));
  BatchOptions o;
  o.pixel_spacing_mm = 0.125;
  o.keep_pixels = true;
  OriginalImageLandmarks priors{};
  priors.points[0] = cv::Point2d(100, 120);
  o.priors = [&](const fs::path&) { return priors; };
  std::optional<BatchItem> item;
  run_batch(predictor, {image}, o, [&](const BatchItem& i) { item = i; });
  ASSERT_TRUE(item && item->ok()) << (item ? item->error : "no callback");
  EXPECT_EQ(item->result->pixel_spacing_mm, 0.125);
  EXPECT_EQ(item->result->priors, "given");
  EXPECT_EQ(item->rgb.size(), cv::Size(300, 360));
}

TEST(Batch, APriorsFunctionThatThrowsFailsThatImageOnly) {
  Predictor predictor = fixture_predictor();
  const auto images = mixed_images(test::temp_dir());
  BatchOptions o;
  o.priors = [](const fs::path& image) -> OriginalImageLandmarks {
    if (image.filename() == "a.png") throw std::runtime_error("no ground truth for its priors");
    return {};
  };
  std::vector<std::string> errors;
  const auto summary = run_batch(predictor, images, o, [&](const BatchItem& item) { errors.push_back(item.error); });
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0], "no ground truth for its priors");
  EXPECT_EQ(errors[2], "");
  EXPECT_EQ(summary.succeeded, 1u);
}

TEST(Batch, AnExceptionFromTheCallbackEndsTheRun) {
  Predictor predictor = fixture_predictor();
  const auto images = mixed_images(test::temp_dir());
  int calls = 0;
  EXPECT_THROW(run_batch(predictor, images, {},
                         [&](const BatchItem&) {
                           ++calls;
                           throw std::runtime_error("disk full");
                         }),
               std::runtime_error);
  EXPECT_EQ(calls, 1);
}

// Several Predictors (jobs) predict images at once; the callback still sees every image once,
// in list order, with the answer one Predictor alone gives.
TEST(Batch, SeveralPredictorsGiveTheSameAnswersInListOrder) {
  const fs::path dir = test::temp_dir();
  std::vector<fs::path> images;
  for (int i = 0; i < 7; ++i) {
    images.push_back(dir / ("img" + std::to_string(i) + ".png"));
    if (i == 3) {
      std::ofstream(images.back()) << "not an image";
      continue;
    }
    cv::imwrite(images.back().string(), test::synthetic_cephalogram({280 + 20 * i, 360 + 10 * i}));
  }
  auto landmarks_of = [&](const std::vector<Predictor*>& predictors) {
    std::vector<std::string> seen;
    run_batch(predictors, images, {}, [&](const BatchItem& item) {
      EXPECT_EQ(item.index, seen.size());
      std::string line = item.image.filename().string() + (item.ok() ? "" : " failed");
      if (item.ok())
        for (const auto& l : item.result->landmarks)
          line += " " + std::to_string(l.x) + "," + std::to_string(l.y);
      seen.push_back(line);
    });
    return seen;
  };
  Predictor one = fixture_predictor(), two = fixture_predictor(), three = fixture_predictor();
  const auto alone = landmarks_of({&one});
  ASSERT_EQ(alone.size(), images.size());
  EXPECT_NE(alone[3].find("failed"), std::string::npos);
  EXPECT_EQ(landmarks_of({&one, &two, &three}), alone);
}

TEST(Batch, AnExceptionFromTheCallbackEndsARunWithSeveralPredictors) {
  Predictor one = fixture_predictor(), two = fixture_predictor();
  const auto images = mixed_images(test::temp_dir());
  int calls = 0;
  EXPECT_THROW(run_batch({&one, &two}, images, {},
                         [&](const BatchItem&) {
                           ++calls;
                           throw std::runtime_error("disk full");
                         }),
               std::runtime_error);
  EXPECT_EQ(calls, 1);
  EXPECT_THROW(run_batch(std::vector<Predictor*>{}, images), std::invalid_argument);
}

}  // namespace
}  // namespace cephtrace
