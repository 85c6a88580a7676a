// SPDX-License-Identifier: Apache-2.0
#include "lib/version.h"
#include "gen/version.h"

const char tg_version[] = TG_VERSION;
const char tg_git_commit[] = TG_GIT_COMMIT;
const char tg_build_date[] = TG_BUILD_DATE;
