// Runs a fuzz target without libFuzzer: every file of the corpus directories given on the
// command line, then random mutations of them for a bounded number of rounds. Lets the fuzz tier
// run under GCC and sanitizers in CI; clang's libFuzzer explores far better when it is present.
//   <target> [--rounds N] [--seed S] CORPUS_DIR...

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int main(int argc, char** argv) {
  std::uint64_t rounds = 100000;
  std::uint64_t seed = 1;
  std::vector<std::vector<std::uint8_t>> corpus;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--rounds" && i + 1 < argc) {
      rounds = std::stoull(argv[++i]);
    } else if (arg == "--seed" && i + 1 < argc) {
      seed = std::stoull(argv[++i]);
    } else {
      for (const auto& entry : std::filesystem::directory_iterator(arg)) {
        std::ifstream file(entry.path(), std::ios::binary);
        corpus.emplace_back(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
      }
    }
  }
  if (corpus.empty()) corpus.emplace_back();
  for (const auto& input : corpus)
    LLVMFuzzerTestOneInput(input.data(), input.size());

  std::mt19937_64 random(seed);
  std::vector<std::uint8_t> input;
  for (std::uint64_t round = 0; round < rounds; ++round) {
    input = corpus[random() % corpus.size()];
    const int mutations = 1 + static_cast<int>(random() % 4);
    for (int m = 0; m < mutations; ++m) {
      switch (random() % 4) {
        case 0:  // flip a byte
          if (!input.empty())
            input[random() % input.size()] ^= static_cast<std::uint8_t>(1 + random() % 255);
          break;
        case 1:  // truncate
          input.resize(input.empty() ? 0 : random() % input.size());
          break;
        case 2:  // append random bytes
          for (int n = static_cast<int>(random() % 16); n > 0; --n)
            input.push_back(static_cast<std::uint8_t>(random()));
          break;
        default:  // set a byte to an edge value
          if (!input.empty()) input[random() % input.size()] = (random() % 2) ? 0xFF : 0x00;
          break;
      }
    }
    LLVMFuzzerTestOneInput(input.data(), input.size());
  }
  std::printf("fuzz: %zu corpus inputs and %llu mutations, no crash (seed %llu)\n", corpus.size(),
              static_cast<unsigned long long>(rounds), static_cast<unsigned long long>(seed));
  return 0;
}
