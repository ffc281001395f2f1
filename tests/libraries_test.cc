// Finding cuBLAS and cuDNN on a machine we did not build on (no GPU needed).
#include "gpu/calibrate/cuda/libraries.h"

#include <dlfcn.h>

#include <algorithm>
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

TEST(Libraries, CuBlasIsLookedForFirstBesideCuDnnInAPipWheelLayout) {
  // PyTorch's CUDA 13 wheels: nvidia/cu13/lib holds cuBLAS, nvidia/cudnn/lib cuDNN.
  const fs::path site = fs::path(::testing::TempDir()) / "wheels/site-packages";
  fs::remove_all(site.parent_path());
  for (const char* pkg : {"cu13", "cudnn", "nccl"}) fs::create_directories(site / "nvidia" / pkg / "lib");
  const std::string cudnn = (site / "nvidia/cudnn/lib/libcudnn.so.9").string();
  EXPECT_EQ(SiblingLibraryFolders(cudnn),
            (std::vector<std::string>{(site / "nvidia/cudnn/lib").string(), (site / "nvidia/cu13/lib").string(),
                                      (site / "nvidia/nccl/lib").string()}));
  EXPECT_EQ(SiblingLibraryFolders("/usr/lib/x86_64-linux-gnu/libcudnn.so.9"),
            std::vector<std::string>{"/usr/lib/x86_64-linux-gnu"});
}

TEST(Libraries, TheWheelsOfThePythonOnPathAreSearched) {
  // A pyenv-like install that none of the fixed places covers, named by python3's sys.path.
  const fs::path root = fs::path(::testing::TempDir()) / "pyenv";
  fs::remove_all(root);
  const fs::path site = root / "versions/3.12/lib/python3.12/site-packages";
  fs::create_directories(site / "nvidia/cu13/lib");
  std::ofstream(site / "nvidia/cu13/lib/libcublas.so.13") << "";
  fs::create_directories(root / "bin");
  {
    std::ofstream py(root / "bin/python3");
    py << "#!/bin/sh\necho ''\necho " << site.string() << "\n";
  }
  fs::permissions(root / "bin/python3", fs::perms::owner_all);
  const std::string old_path = std::getenv("PATH") ? std::getenv("PATH") : "";
  setenv("PATH", ((root / "bin").string() + ":" + old_path).c_str(), 1);
  const std::vector<std::string> dirs = LibrarySearchPath();
  setenv("PATH", old_path.c_str(), 1);
  const std::vector<std::string> found = FindLibrariesIn("libcublas.so.13", dirs);
  EXPECT_NE(std::find(found.begin(), found.end(), (site / "nvidia/cu13/lib/libcublas.so.13").string()), found.end());
}

TEST(Libraries, ACandidateOfTheWrongBuildIsRefusedAndTheNextTaken) {
  // Two copies of a real shared library; the check refuses the first (as a cuDNN built for
  // CUDA 12 is refused by a CUDA 13 binary), so the second is opened.
  const fs::path root = fs::path(::testing::TempDir()) / "libcheck";
  fs::remove_all(root);
  for (const char* d : {"cuda12", "cuda13"}) {
    fs::create_directories(root / d);
    fs::copy_file("/lib/x86_64-linux-gnu/libz.so.1", root / d / "libgpuslice_test_z.so.1");
  }
  std::string path;
  const LibraryCheck check = [](void* handle, const std::string& p) -> std::string {
    if (dlsym(handle, "zlibVersion") == nullptr) return "no zlibVersion";
    return p.find("cuda12") != std::string::npos ? "built for CUDA 12.8; this binary needs CUDA 13" : "";
  };
  void* handle = OpenLibrary("libgpuslice_test_z.so.1", "a test library", &path, check,
                             {(root / "cuda12").string(), (root / "cuda13").string()});
  EXPECT_NE(handle, nullptr);
  EXPECT_EQ(path, (root / "cuda13/libgpuslice_test_z.so.1").string());
  try {
    OpenLibrary("libgpuslice_test_z.so.1", "a test library", &path,
                [](void*, const std::string&) { return std::string("built for CUDA 12.8"); }, {(root / "cuda12").string()});
    FAIL();
  } catch (const GpuError& e) {
    EXPECT_NE(std::string(e.what()).find("no usable libgpuslice_test_z.so.1 (a test library); " +
                                         (root / "cuda12/libgpuslice_test_z.so.1").string() + ": built for CUDA 12.8"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace gpuslice
