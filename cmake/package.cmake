# package.cmake — what `cmake --install` puts where, and `cpack -G DEB`: the rehearse binary, a man
# page per command and the bash completion (both generated from the binary's help texts at build
# time: manpages.sh, completion.sh), the docs. Depends is computed by dpkg-shlibdeps from the shared
# libraries the binary links; PostgreSQL is recommended (rehearse starts its servers, and finds them
# in /usr/lib/postgresql/*/bin or with `rehearse pg install`). docs/package.md describes it.
include(GNUInstallDirs)
include(${CMAKE_CURRENT_LIST_DIR}/commit.cmake)

# Dates in the man pages and the changelog: the commit's, so that two builds of one commit make the
# same files (reproducible builds' SOURCE_DATE_EPOCH, which help2man and string(TIMESTAMP) read);
# one given in the environment wins. Found at configure time, like the commit itself.
if(NOT DEFINED ENV{SOURCE_DATE_EPOCH})
  find_package(Git QUIET)
  if(GIT_FOUND AND EXISTS "${PROJECT_SOURCE_DIR}/.git")
    execute_process(COMMAND "${GIT_EXECUTABLE}" -C "${PROJECT_SOURCE_DIR}" log -1 --format=%ct
                    OUTPUT_VARIABLE epoch OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    if(epoch MATCHES "^[0-9]+$")
      set(ENV{SOURCE_DATE_EPOCH} ${epoch})
    endif()
  endif()
endif()
set(date_env)
if(DEFINED ENV{SOURCE_DATE_EPOCH})
  set(date_env ${CMAKE_COMMAND} -E env SOURCE_DATE_EPOCH=$ENV{SOURCE_DATE_EPOCH})
endif()

# Man pages and completion, regenerated whenever the binary changes.
set(gen_dir ${CMAKE_BINARY_DIR}/generated)
find_program(HELP2MAN help2man)
if(HELP2MAN)
  add_custom_command(OUTPUT ${gen_dir}/man/rehearse.1.gz
    COMMAND ${date_env} ${CMAKE_CURRENT_LIST_DIR}/manpages.sh $<TARGET_FILE:rehearse> ${PROJECT_VERSION} ${gen_dir}/man
    DEPENDS rehearse ${CMAKE_CURRENT_LIST_DIR}/manpages.sh ${CMAKE_CURRENT_LIST_DIR}/help-commands.sh
    COMMENT "Man pages from rehearse's help texts (help2man)" VERBATIM)
  add_custom_target(manpages ALL DEPENDS ${gen_dir}/man/rehearse.1.gz)
  install(DIRECTORY ${gen_dir}/man/ DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
else()
  message(WARNING "help2man not found: no man pages (scripts/bootstrap.sh installs it); "
                  "the package test fails without them")
endif()
add_custom_command(OUTPUT ${gen_dir}/completion/rehearse
  COMMAND ${CMAKE_COMMAND} -E make_directory ${gen_dir}/completion
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/completion.sh $<TARGET_FILE:rehearse> ${gen_dir}/completion/rehearse
  DEPENDS rehearse ${CMAKE_CURRENT_LIST_DIR}/completion.sh ${CMAKE_CURRENT_LIST_DIR}/help-commands.sh
          ${CMAKE_CURRENT_LIST_DIR}/help-options.sh
  COMMENT "bash completion from rehearse's help texts" VERBATIM)
add_custom_target(completion ALL DEPENDS ${gen_dir}/completion/rehearse)

# Version: the project's, plus the commit for a build from git (as `rehearse --version` has it):
# 0.1.0+g<12 hex>.
rehearse_commit(${PROJECT_SOURCE_DIR} package_commit)
set(REHEARSE_DEB_VERSION ${PROJECT_VERSION})
if(package_commit MATCHES "^[0-9a-f]+$")
  string(SUBSTRING ${package_commit} 0 12 short)
  set(REHEARSE_DEB_VERSION ${PROJECT_VERSION}+g${short})
endif()

# The Debian changelog and copyright files a package must carry (Debian policy 12.5, 12.7).
set(REHEARSE_MAINTAINER "rehearse maintainers <maintainers@rehearse.invalid>" CACHE STRING
    "Maintainer field of the Debian package")
string(TIMESTAMP changelog_date "%a, %d %b %Y %H:%M:%S +0000" UTC)
file(WRITE ${gen_dir}/doc/changelog
  "rehearse (${REHEARSE_DEB_VERSION}) unstable; urgency=medium\n\n"
  "  * Built from commit ${package_commit}.\n\n"
  " -- ${REHEARSE_MAINTAINER}  ${changelog_date}\n")
execute_process(COMMAND gzip -9nf ${gen_dir}/doc/changelog)
configure_file(${CMAKE_CURRENT_LIST_DIR}/copyright ${gen_dir}/doc/copyright COPYONLY)

# Debian's hardening flags (lintian asks for them): fortified libc calls, read-only relocations
# resolved at start. Not with the sanitizers, which replace those libc calls themselves, nor
# unoptimised (Debug: glibc warns that fortify needs -O, and warnings are errors).
if(NOT REHEARSE_SANITIZE)
  target_compile_definitions(rehearse_core PRIVATE $<$<NOT:$<CONFIG:Debug>>:_FORTIFY_SOURCE=2>)
  target_compile_definitions(rehearse PRIVATE $<$<NOT:$<CONFIG:Debug>>:_FORTIFY_SOURCE=2>)
  target_link_options(rehearse PRIVATE -Wl,-z,relro -Wl,-z,now)
endif()

install(TARGETS rehearse RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# A stripped install (cpack: CPACK_STRIP_FILES) also drops the compiler's .comment, as dh_strip does.
install(CODE "if(CMAKE_INSTALL_DO_STRIP)
  execute_process(COMMAND \"${CMAKE_STRIP}\" --remove-section=.comment --remove-section=.note
                  \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/rehearse\")
endif()")
install(FILES ${gen_dir}/completion/rehearse DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
install(FILES README.md ${gen_dir}/doc/changelog.gz ${gen_dir}/doc/copyright
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY docs ci DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME rehearse)
set(CPACK_PACKAGE_VERSION ${REHEARSE_DEB_VERSION})
set(CPACK_PACKAGE_CONTACT ${REHEARSE_MAINTAINER})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "replay database migrations against throwaway PostgreSQL clusters")
set(CPACK_PACKAGE_DESCRIPTION
  "rehearse replays database migrations (Prisma Migrate's deploy, resolve and\n"
  "status) against throwaway PostgreSQL clusters, at any git revision of a\n"
  "repository, and asserts on what the database ends up holding.\n"
  "`rehearse check` is a pull-request gate: clean deploy, the upgrade path\n"
  "from the base revision, catalog equality, history hazards and the locks\n"
  "each new migration takes.")
string(REPLACE ";" "" CPACK_PACKAGE_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION}")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS postgresql)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/package)
include(CPack)
