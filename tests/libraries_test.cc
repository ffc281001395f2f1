// Finding cuBLAS and cuDNN on a machine we did not build on (no GPU needed).
#include "gpu/calibrate/cuda/libraries.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "gpu/calibrate/device.h"

namespace gpuslice {
namespace {

namespace fs = std::filesystem;

TEST(Libraries, ParsesTheLinkerCache) {
  const std::string text =
      "1234 libs found in cache `/etc/ld.so.cache'\n"
      "\tlibcudnn.so.9 (libc6,x86-64) => /opt/cudnn/lib/libcudnn.so.9\n"
      "\tlibcublasLt.so.13 (libc6,x86-64) => /usr/local/cuda-13.0/lib64/libcublasLt.so.13\n"
      "\tlibcublas.so.13 (libc6,x86-64) => /usr/local/cuda-13.0/lib64/libcublas.so.13\n"
      "\tlibcublas.so (libc6,x86-64) => /usr/local/cuda-13.0/lib64/libcublas.so\n";
  EXPECT_EQ(ParseLdconfig(text, "libcublas.so.13"),
            std::vector<std::string>{"/usr/local/cuda-13.0/lib64/libcublas.so.13"});
  EXPECT_EQ(ParseLdconfig(text, "libcudnn.so.9"), std::vector<std::string>{"/opt/cudnn/lib/libcudnn.so.9"});
  EXPECT_TRUE(ParseLdconfig(text, "libcudnn.so.8").empty());
}

TEST(Libraries, FindsTheFirstFolderThatHoldsIt) {
  const fs::path root = fs::path(::testing::TempDir()) / "libsearch";
  fs::remove_all(root);
  fs::create_directories(root / "a");
  fs::create_directories(root / "b");
  std::ofstream(root / "b" / "libcudnn.so.9") << "";
  EXPECT_EQ(FindLibraryIn("libcudnn.so.9", {(root / "a").string(), (root / "b").string()}),
            (root / "b" / "libcudnn.so.9").string());
  EXPECT_EQ(FindLibraryIn("libcublas.so.13", {(root / "a").string(), (root / "b").string()}), "");
}

TEST(Libraries, TheEnvironmentFolderComesFirstAndAMissingLibraryIsNamed) {
  const fs::path root = fs::path(::testing::TempDir()) / "libenv";
  fs::create_directories(root);
  setenv("GPUSLICE_CUDA_LIBS", root.c_str(), 1);
  const std::vector<std::string> dirs = LibrarySearchPath();
  ASSERT_FALSE(dirs.empty());
  EXPECT_EQ(dirs.front(), root.string());
  try {
    OpenLibrary("libgpuslice_does_not_exist.so.1", "a test library", nullptr);
    FAIL();
  } catch (const GpuError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("libgpuslice_does_not_exist.so.1 (a test library) not found; searched " + root.string()),
              std::string::npos) << what;
    EXPECT_NE(what.find("GPUSLICE_CUDA_LIBS"), std::string::npos) << what;
  }
  unsetenv("GPUSLICE_CUDA_LIBS");
}

}  // namespace
}  // namespace gpuslice
