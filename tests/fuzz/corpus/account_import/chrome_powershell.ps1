$session = New-Object Microsoft.PowerShell.Commands.WebRequestSession
$session.UserAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36"
$session.Cookies.Add((New-Object System.Net.Cookie("x-ap", "na-vancouver-pop", "/", ".qwen.ai")))
$session.Cookies.Add((New-Object System.Net.Cookie("cna", "AbCdEfGhIjKlMn0", "/", ".qwen.ai")))
$session.Cookies.Add((New-Object System.Net.Cookie("aui", "6f1c2a9e-0000-4000-8000-00000000test", "/", ".qwen.ai")))
$session.Cookies.Add((New-Object System.Net.Cookie("acw_tc", "0a03e58617614886302738719e3f7ec", "/", ".qwen.ai")))
$session.Cookies.Add((New-Object System.Net.Cookie("token", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpZCI6IjZmMWMyYTllLTAwMDAtNDAwMC04MDAwLTAwMDAwMDAwdGVzdCIsImxhc3RfcGFzc3dvcmRfY2hhbmdlIjoxNzYwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDB9.dGVzdC1zaWduYXR1cmUtbm90LXJlYWwtMDEyMzQ1Njc4OQ", "/", ".qwen.ai")))
$session.Cookies.Add((New-Object System.Net.Cookie("atpsida", "a1b2c3_1761488630_3", "/", ".qwen.ai")))
$session.Cookies.Add((New-Object System.Net.Cookie("ssxmod_itna", "Qq+xuDyQeRgD/Gx0dGQD=", "/", ".qwen.ai")))
$session.Cookies.Add((New-Object System.Net.Cookie("ssxmod_itna2", "Qq+xuDyQeRgD/Gx0dGQD==", "/", ".qwen.ai")))
$session.Cookies.Add((New-Object System.Net.Cookie("isg", "BAAA-bbb_ccc%3D", "/", ".qwen.ai")))
Invoke-WebRequest -UseBasicParsing -Uri "https://chat.qwen.ai/api/v2/chat/completions?chat_id=9f2c" `
-Method "POST" `
-WebSession $session `
-Headers @{
"authority"="chat.qwen.ai"
  "method"="POST"
  "path"="/api/v2/chat/completions?chat_id=9f2c"
  "scheme"="https"
  "accept"="*/*"
  "authorization"="Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpZCI6IjZmMWMyYTllLTAwMDAtNDAwMC04MDAwLTAwMDAwMDAwdGVzdCIsImxhc3RfcGFzc3dvcmRfY2hhbmdlIjoxNzYwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDB9.dGVzdC1zaWduYXR1cmUtbm90LXJlYWwtMDEyMzQ1Njc4OQ"
  "bx-ua"="231!a%2Fb+c/d=="
  "bx-umidtoken"="T2gAfakeUmidToken_0123456789abcdef=="
  "bx-v"="2.5.31"
  "source"="web"
} `
-ContentType "application/json" `
-Body "{`"stream`":true}"
