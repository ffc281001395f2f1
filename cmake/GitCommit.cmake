# Writes OUT, a C++ source defining gpuslice::GitCommit(), with the commit of the checkout at
# SRC ("<sha>", "<sha>-dirty" when tracked files differ from it, "unknown" outside a checkout).
# Run at every build (a custom target); OUT changes, and so recompiles, only with the commit.
execute_process(COMMAND git -C "${SRC}" rev-parse HEAD
                OUTPUT_VARIABLE commit RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT rc EQUAL 0 OR commit STREQUAL "")
  set(commit "unknown")
else()
  execute_process(COMMAND git -C "${SRC}" status --porcelain --untracked-files=no
                  OUTPUT_VARIABLE changes OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(NOT changes STREQUAL "")
    string(APPEND commit "-dirty")
  endif()
endif()
file(WRITE "${OUT}.new" "namespace gpuslice {\nconst char* GitCommit() { return \"${commit}\"; }\n}  // namespace gpuslice\n")
file(COPY_FILE "${OUT}.new" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.new")
