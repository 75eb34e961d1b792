# CPACK_PRE_BUILD_SCRIPTS of the Debian package (packaging/CMakeLists.txt):
# runs on the staged install before it is packed.
#
# `cmake --install` makes the accounts and keys directories (mode 0700) so
# that a source install has them at once. The package leaves them out:
# postinst makes them with systemd-tmpfiles, owned by the service user, and
# dpkg then never owns (or resets) a directory that holds the operator's
# credentials.
foreach(_dir accounts keys)
  file(GLOB _staged "${CPACK_TEMPORARY_DIRECTORY}${CPACK_QP_SYSCONFDIR}/${_dir}")
  if(NOT _staged)
    message(FATAL_ERROR "deb-staging: ${CPACK_QP_SYSCONFDIR}/${_dir} is not in the staging tree "
                        "${CPACK_TEMPORARY_DIRECTORY}")
  endif()
  file(REMOVE_RECURSE "${CPACK_TEMPORARY_DIRECTORY}${CPACK_QP_SYSCONFDIR}/${_dir}")
endforeach()

# The package's lintian overrides (each with its reason), where lintian looks
# for them in an installed package. Not part of a source install.
set(_overrides "${CPACK_TEMPORARY_DIRECTORY}/usr/share/lintian/overrides")
file(MAKE_DIRECTORY "${_overrides}")
file(COPY_FILE "${CPACK_QP_LINTIAN_OVERRIDES}" "${_overrides}/qwenproxy")
file(CHMOD "${_overrides}/qwenproxy" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

# Manual pages (Debian policy 12.1: every program in /usr/bin has one), made
# from each program's --help by help2man, compressed with gzip -9n.
set(_man "${CPACK_TEMPORARY_DIRECTORY}/usr/share/man/man1")
file(MAKE_DIRECTORY "${_man}")
foreach(_entry IN LISTS CPACK_QP_MANPAGES)
  string(REPLACE "=" ";" _entry "${_entry}")
  list(GET _entry 0 _prog)
  list(GET _entry 1 _name)
  execute_process(
    COMMAND help2man --no-info --no-discard-stderr --version-string=${CPACK_PACKAGE_VERSION}
            --section=1 --source=qwenproxy --name=${_name} --include=${CPACK_QP_MANPAGE_INCLUDE}
            --output=${_man}/${_prog}.1 ${CPACK_TEMPORARY_DIRECTORY}/usr/bin/${_prog}
    RESULT_VARIABLE _rc ERROR_VARIABLE _err)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "deb-staging: help2man ${_prog}: ${_err}")
  endif()
  execute_process(COMMAND gzip -9n "${_man}/${_prog}.1" RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "deb-staging: gzip ${_prog}.1")
  endif()
  file(CHMOD "${_man}/${_prog}.1.gz" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endforeach()
