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
