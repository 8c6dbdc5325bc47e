# MLflow Login: shell integration for PowerShell.
# Set up by `{{init_line}}` in {{rc_file}}.
#
# At each prompt __mll_hook compares the one-line state file with $__mll_state without
# starting a process. When the current folder changed, it looks for the project file
# (.mlflow-login.toml) in it and the folders above, up to the home folder. Only when the
# state file or the project file in force changed (a switch, login or logout anywhere;
# entering or leaving a project), or the exported single sign-on token needs refreshing
# ($__mll_due, compared with .NET's clock), does it run mlflow-login, once.

function global:__mll_hook {
    $s = ''
    try { $s = ([System.IO.File]::ReadAllText({{state_file}}) -split "`r?`n")[0] } catch { }
    $p = [string]$env:MLFLOW_LOGIN_PROJECT
    $here = (Get-Location -PSProvider FileSystem).ProviderPath
    if ($here -ne $global:__mll_pwd) {
        $global:__mll_pwd = $here
        $p = ''
        $d = $here
        while ($d) {
            $f = [System.IO.Path]::Combine($d, {{project_file}})
            if ([System.IO.File]::Exists($f)) { $p = $f; break }
            if ($d -eq $HOME) { break }
            $d = [System.IO.Path]::GetDirectoryName($d)
        }
    }
    $due = [long]0
    $late = [long]::TryParse([string]$global:__mll_due, [ref]$due) -and $due -gt 0 -and
        [DateTimeOffset]::UtcNow.ToUnixTimeSeconds() -ge $due
    if ($s -ne $global:__mll_state -or $p -ne [string]$env:MLFLOW_LOGIN_PROJECT -or $late) {
        $global:__mll_state = $s
        if (Test-Path -LiteralPath {{bin}} -PathType Leaf) {
            $env:MLFLOW_LOGIN_PROJECT = $p
            $env:__MLL_HINTED = [string]$global:__mll_hinted
            try {
                & {{bin}} hook-env --shell pwsh{{hook_args}} | Out-String | Invoke-Expression
            } finally {
                Remove-Item -ErrorAction SilentlyContinue Env:__MLL_HINTED
            }
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
