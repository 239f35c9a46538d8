// The Kotlin bindings of govcred-ffi on the JVM through JNA, as Android uses them.
// Each test asserts real results: claims, outcomes and stable error codes.

import java.io.File
import java.nio.file.Files
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import uniffi.govcred_ffi.ErrorCode
import uniffi.govcred_ffi.GovcredException
import uniffi.govcred_ffi.Verifier
import uniffi.govcred_ffi.generateP256Jwk

/** Runs the `govcred` CLI (the issuer side) and returns its standard output. */
fun govcred(vararg args: String): String {
    val bin = System.getProperty("govcred.bin")
    val p = ProcessBuilder(bin, *args).redirectErrorStream(false).start()
    val out = p.inputStream.bufferedReader().readText()
    val err = p.errorStream.bufferedReader().readText()
    check(p.waitFor() == 0) { "govcred ${args.joinToString(" ")} failed: $err" }
    return out
}

/** A Veteran Card issued by the CLI, and the issuer's did:web document. */
fun issuedCard(dir: File): Pair<String, String> {
    val key = File(dir, "issuer.jwk").path
    govcred("keygen", "--alg", "ES256", "--out", key)
    val site = File(dir, "site").path
    govcred("did-web", "--domain", "issuer.example.gov.uk", "--key", key, "--out", site)
    val claims = File(dir, "claims.json")
    claims.writeText("""{"serviceNumber": "25057386"}""")
    val token = govcred(
        "issue", "jwt-vc", "--key", key, "--issuer", "https://issuer.example.gov.uk",
        "--type", "DigitalVeteranCard", "--claims", claims.path,
        "--valid-until", "2099-01-01T00:00:00Z",
    ).trim()
    return token to File(site, ".well-known/did.json").readText()
}

class GovcredTest {
    private val tmp: File = Files.createTempDirectory("govcred-kt").toFile()

    @Test
    fun verifiesACredentialOffline() {
        val (token, didDoc) = issuedCard(tmp)
        val report = Verifier(listOf(didDoc), listOf()).verify(token)
        assertTrue(report.valid, report.toString())
        assertEquals("valid", report.outcome)
        assertEquals("jwt-vc", report.format)
        assertEquals(listOf("VerifiableCredential", "DigitalVeteranCard"), report.types)
        assertTrue(report.claimsJson.contains("\"serviceNumber\":\"25057386\""), report.claimsJson)
        assertTrue(report.checks.all { it.outcome == "passed" })
    }

    @Test
    fun rejectionsCarryStableCodes() {
        val (token, didDoc) = issuedCard(tmp)
        val verifier = Verifier(listOf(didDoc), listOf())
        val late = verifier.verifyAt(token, 4_102_444_800L + 86_400L)
        assertFalse(late.valid)
        assertEquals(ErrorCode.EXPIRED, late.errors[0].code)
        val (head, payload, sig) = token.split(".")
        val tampered = verifier.verify("$head.$payload.${sig.dropLast(4)}AAAA")
        assertEquals(ErrorCode.SIGNATURE_INVALID, tampered.errors[0].code)
        val noKey = Verifier(listOf(), listOf()).verify(token)
        assertEquals("could_not_check", noKey.outcome)
        assertEquals(ErrorCode.UNKNOWN_KEY, noKey.errors[0].code)
    }

    @Test
    fun errorsAreTypedExceptions() {
        val e = assertThrows<GovcredException.Failed> { Verifier(listOf("{not json"), listOf()) }
        assertEquals(ErrorCode.MALFORMED_INPUT, e.code)
    }

    @Test
    fun generatesKeys() {
        val jwk = generateP256Jwk()
        assertTrue(jwk.contains("\"crv\":\"P-256\"") && jwk.contains("\"d\":"), jwk)
    }
}
