# commit.cmake — the git commit rehearse is built from, for `rehearse --version`, found at configure
# time: `git rev-parse HEAD` in a checkout; in a tarball made by `git archive` (no .git), the file
# .git-commit, which git archive fills in (export-subst in .gitattributes); else "unknown".
# `cmake -DSRC=DIR -P cmake/commit.cmake` prints what it finds for DIR (tests/cli/version.test.sh).
function(rehearse_commit src out)
  set(commit "")
  find_package(Git QUIET)
  if(GIT_FOUND AND EXISTS "${src}/.git")
    execute_process(COMMAND "${GIT_EXECUTABLE}" -C "${src}" rev-parse HEAD
                    OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      set(commit "")
    endif()
  endif()
  if(commit STREQUAL "" AND EXISTS "${src}/.git-commit")
    file(STRINGS "${src}/.git-commit" lines LIMIT_COUNT 1)
    if(lines MATCHES "^[0-9a-f]+$")    # not "$Format:...$": a plain copy of the source, not an archive
      set(commit "${lines}")
    endif()
  endif()
  if(commit STREQUAL "")
    set(commit "unknown")
  endif()
  set(${out} "${commit}" PARENT_SCOPE)
endfunction()

if(CMAKE_SCRIPT_MODE_FILE AND DEFINED SRC)
  rehearse_commit("${SRC}" c)
  message("${c}")
endif()
