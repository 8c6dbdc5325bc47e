# MLflow Login: shell integration for PowerShell.
# Set up by `{{init_line}}` in {{rc_file}}.
#
# At each prompt __mll_hook compares the one-line state file with $__mll_state without
# starting a process. When the file changed (a switch, login or logout anywhere), it runs
# mlflow-login once for the new exports.

function global:__mll_hook {
    $s = ''
    try { $s = ([System.IO.File]::ReadAllText({{state_file}}) -split "`r?`n")[0] } catch { }
    if ($s -ne $global:__mll_state) {
        $global:__mll_state = $s
        if (Test-Path -LiteralPath {{bin}} -PathType Leaf) {
            & {{bin}} hook-env --shell pwsh{{hook_args}} | Out-String | Invoke-Expression
        }
    }
}

# `use NAME --here` and `use --unpin` change this shell, so they go through a function;
# every other command runs the program as it is.
function global:mlflow-login {
    if (-not (Test-Path -LiteralPath {{bin}} -PathType Leaf)) {
        Write-Error ('mlflow-login: ' + {{bin}} + ' is gone: reinstall it, or remove the init line from {{rc_file}}')
        return
    }
    $env:MLFLOW_LOGIN_SHELL = 'pwsh{{hook_args}}'
    try {
        if ($args.Count -gt 0 -and $args[0] -eq 'use' -and ($args -contains '--here' -or $args -contains '--unpin')) {
            $out = & {{bin}} @args | Out-String
            if ($LASTEXITCODE -eq 0) { Invoke-Expression $out }
        } else {
            & {{bin}} @args
        }
    } finally {
        Remove-Item -ErrorAction SilentlyContinue Env:MLFLOW_LOGIN_SHELL
    }
}

if (-not $global:__mll_prev_prompt) {
    $global:__mll_prev_prompt = $function:prompt
    function global:prompt {
        $code = $global:LASTEXITCODE
        __mll_hook
        $global:LASTEXITCODE = $code
        & $global:__mll_prev_prompt
    }
}
