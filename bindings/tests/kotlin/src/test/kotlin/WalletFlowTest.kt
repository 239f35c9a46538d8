// The whole wallet flow from Kotlin on the JVM, as the Android app runs it: the
// platform traits implemented in Kotlin (java.security EC key store, AES/GCM key
// protector, java.net.http), against a loopback `govcred serve`.

import java.io.File
import java.math.BigInteger
import java.net.ServerSocket
import java.net.URI
import java.net.http.HttpClient
import java.nio.file.Files
import java.security.KeyPair
import java.security.KeyPairGenerator
import java.security.SecureRandom
import java.security.Signature
import java.security.interfaces.ECPublicKey
import java.security.spec.ECGenParameterSpec
import java.time.Duration
import java.util.Base64
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.CopyOnWriteArrayList
import javax.crypto.AEADBadTagException
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec
import kotlinx.coroutines.TimeoutCancellationException
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.assertThrows
import uniffi.govcred_ffi.CredentialState
import uniffi.govcred_ffi.ErrorCode
import uniffi.govcred_ffi.GovcredException
import uniffi.govcred_ffi.HttpHeader
import uniffi.govcred_ffi.HttpRequest
import uniffi.govcred_ffi.HttpResponse
import uniffi.govcred_ffi.Openid4vpChoice
import uniffi.govcred_ffi.Openid4vpSession
import uniffi.govcred_ffi.PlatformHttp
import uniffi.govcred_ffi.PlatformKeyProtector
import uniffi.govcred_ffi.PlatformKeyStore
import uniffi.govcred_ffi.ProximityReader
import uniffi.govcred_ffi.RequestedElement
import uniffi.govcred_ffi.VerificationReport
import uniffi.govcred_ffi.Verifier
import uniffi.govcred_ffi.Wallet

private fun b64url(bytes: ByteArray): String = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes)

/** A coordinate as exactly 32 big-endian bytes. */
private fun coord(v: BigInteger): ByteArray {
    val raw = v.toByteArray()
    return when {
        raw.size == 32 -> raw
        raw.size > 32 -> raw.copyOfRange(raw.size - 32, raw.size)
        else -> ByteArray(32 - raw.size) + raw
    }
}

/** P-256 keys by alias, as the Android Keystore would hold them. */
open class KtKeyStore : PlatformKeyStore {
    val keys = ConcurrentHashMap<String, KeyPair>()
    @Volatile var signatures = 0

    override fun createKey(alias: String): String {
        if (keys.containsKey(alias)) throw GovcredException.Failed(ErrorCode.DUPLICATE_KEY, alias)
        val gen = KeyPairGenerator.getInstance("EC")
        gen.initialize(ECGenParameterSpec("secp256r1"))
        keys[alias] = gen.generateKeyPair()
        return publicKey(alias)
    }

    override fun publicKey(alias: String): String {
        val kp = keys[alias] ?: throw GovcredException.Failed(ErrorCode.KEY_NOT_FOUND, alias)
        val w = (kp.public as ECPublicKey).w
        return """{"kty":"EC","crv":"P-256","x":"${b64url(coord(w.affineX))}","y":"${b64url(coord(w.affineY))}"}"""
    }

    override fun sign(alias: String, data: ByteArray): ByteArray {
        val kp = keys[alias] ?: throw GovcredException.Failed(ErrorCode.KEY_NOT_FOUND, alias)
        // P1363 format: the raw R‖S the core expects, not DER.
        val s = Signature.getInstance("SHA256withECDSAinP1363Format")
        s.initSign(kp.private)
        s.update(data)
        signatures++
        return s.sign()
    }

    override fun deleteKey(alias: String) {
        keys.remove(alias)
    }
}

/** A key store whose secure element fails to sign with an unchecked exception. */
class FailingKeyStore : KtKeyStore() {
    override fun sign(alias: String, data: ByteArray): ByteArray =
        throw IllegalStateException("StrongBox unavailable")
}

/** Wraps the store's data key with AES-256-GCM. */
class KtKeyProtector : PlatformKeyProtector {
    private var key: SecretKey = newKey()
    var destroyed = false

    private fun newKey(): SecretKey = KeyGenerator.getInstance("AES").apply { init(256) }.generateKey()

    override fun wrap(key: ByteArray): ByteArray {
        val iv = ByteArray(12).also { SecureRandom().nextBytes(it) }
        val c = Cipher.getInstance("AES/GCM/NoPadding")
        c.init(Cipher.ENCRYPT_MODE, this.key, GCMParameterSpec(128, iv))
        return iv + c.doFinal(key)
    }

    override fun unwrap(wrapped: ByteArray): ByteArray {
        val c = Cipher.getInstance("AES/GCM/NoPadding")
        c.init(Cipher.DECRYPT_MODE, key, GCMParameterSpec(128, wrapped.copyOfRange(0, 12)))
        try {
            return c.doFinal(wrapped.copyOfRange(12, wrapped.size))
        } catch (e: AEADBadTagException) {
            throw GovcredException.Failed(ErrorCode.WRONG_KEY, "not wrapped by this key")
        }
    }

    override fun destroyKey() {
        key = newKey()
        destroyed = true
    }
}

/** The core's HTTP requests over java.net.http (no redirects), optionally slowed down. */
class KtHttp(private val delayMs: Long = 0) : PlatformHttp {
    private val client = HttpClient.newBuilder()
        .followRedirects(HttpClient.Redirect.NEVER)
        .connectTimeout(Duration.ofSeconds(10))
        .build()
    val seen = CopyOnWriteArrayList<String>()

    override fun send(request: HttpRequest): HttpResponse {
        if (delayMs > 0) Thread.sleep(delayMs)
        seen.add("${request.method} ${request.url}")
        val b = java.net.http.HttpRequest.newBuilder(URI.create(request.url)).timeout(Duration.ofSeconds(30))
        request.headers.forEach { b.header(it.name, it.value) }
        val body = if (request.body.isEmpty() && request.method == "GET") {
            java.net.http.HttpRequest.BodyPublishers.noBody()
        } else {
            java.net.http.HttpRequest.BodyPublishers.ofByteArray(request.body)
        }
        val r = client.send(b.method(request.method, body).build(), java.net.http.HttpResponse.BodyHandlers.ofByteArray())
        val headers = r.headers().map().flatMap { (k, vs) -> vs.map { HttpHeader(k, it) } }
        return HttpResponse(r.statusCode().toUShort(), headers, r.body())
    }
}

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WalletFlowTest {
    private val tmp: File = Files.createTempDirectory("govcred-kt-wallet").toFile()
    private lateinit var server: Process
    private lateinit var url: String
    private lateinit var config: File

    @BeforeAll
    fun startIssuer() {
        val port = ServerSocket(0).use { it.localPort }
        url = "http://127.0.0.1:$port"
        govcred("serve", "--init", File(tmp, "iss").path, "--url", url)
        config = File(tmp, "iss/issuer.toml")
        server = ProcessBuilder(System.getProperty("govcred.bin"), "serve", "--config", config.path)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start()
        val deadline = System.currentTimeMillis() + 30_000
        while (true) {
            val ok = runCatching { fetch("/.well-known/openid-credential-issuer") }.isSuccess
            if (ok) break
            check(System.currentTimeMillis() < deadline) { "govcred serve did not start" }
            Thread.sleep(100)
        }
    }

    @AfterAll
    fun stopIssuer() {
        server.destroyForcibly().waitFor()
    }

    private fun fetch(pathOrUrl: String): String {
        val full = if (pathOrUrl.startsWith("http")) pathOrUrl else url + pathOrUrl
        val r = HttpClient.newHttpClient().send(
            java.net.http.HttpRequest.newBuilder(URI.create(full)).build(),
            java.net.http.HttpResponse.BodyHandlers.ofString(),
        )
        check(r.statusCode() == 200) { "GET $full: ${r.statusCode()}" }
        return r.body()
    }

    private fun offer(configId: String): String = govcred(
        "offer", "create", "--config", config.path, "--config-id", configId,
        "--claims", File(config.parentFile, "claims/$configId.json").path,
        "--qr-dir", File(tmp, "qr").path, "--count", "1", "--no-qr",
    ).trim().lines().first()

    /** A verifier trusting the issuer's did.json and IACA, with the credential's status list. */
    private fun verifierFor(report: VerificationReport): Verifier = Verifier.fromTrust(
        listOf(fetch("/.well-known/did.json")),
        listOf(),
        listOf(File(config.parentFile, "pki/iaca.pem").readText()),
        listOfNotNull(report.status?.let { fetch(it.listUri) }),
    )

    private fun dbPath(name: String) = File(Files.createTempDirectory(tmp.toPath(), name).toFile(), "wallet.db").path

    @Test
    fun receivesListsPresentsAndVerifiesAnSdJwtVc() = runBlocking {
        val keys = KtKeyStore()
        val wallet = Wallet.open(dbPath("sdjwt"), KtKeyProtector(), keys, KtHttp())
        val received = wallet.receiveOffer(offer("ExamplePid"))
        assertTrue(received.report.valid, received.report.toString())
        assertEquals("dc+sd-jwt", received.format)
        assertEquals("valid", received.report.status?.state)
        assertTrue(received.notified)
        assertNotNull(received.id)
        val id = received.id!!
        assertEquals(1, keys.keys.size)

        val card = wallet.list().single()
        assertEquals(id, card.id)
        assertEquals("sd-jwt-vc", card.format)
        assertEquals(listOf("urn:example:govcred:pid:1"), card.types)
        assertEquals(CredentialState.VALID, card.state)
        assertFalse(card.showAsInvalid)
        assertTrue(wallet.get(id).claimsJson.contains("\"family_name\":\"Smith\""))

        val vp = wallet.presentSdJwt(id, listOf("given_name"), "https://verifier.example.gov.uk", "n-1")
        val verifier = verifierFor(received.report)
        val report = verifier.verifyPresentation(vp, "https://verifier.example.gov.uk", "n-1")
        assertTrue(report.valid, report.toString())
        assertTrue(report.claimsJson.contains("\"given_name\":\"Sam\""), report.claimsJson)
        assertFalse(report.claimsJson.contains("family_name"), report.claimsJson)
        assertFalse(report.claimsJson.contains("birthdate"), report.claimsJson)
        assertFalse(verifier.verifyPresentation(vp, "https://verifier.example.gov.uk", "other").valid)

        wallet.wipe()
        assertTrue(wallet.list().isEmpty())
        assertTrue(keys.keys.isEmpty())
    }

    @Test
    fun presentsAnMdocInProximity() = runBlocking {
        val wallet = Wallet.open(dbPath("mdoc"), KtKeyProtector(), KtKeyStore(), KtHttp())
        val received = wallet.receiveOffer(offer("FishingLicence"))
        assertTrue(received.report.valid, received.report.toString())
        val doctype = "uk.gov.example-credential-issuer.fishingLicence.1"
        assertEquals(listOf(doctype), wallet.list().single().types)

        val session = wallet.startProximity()
        val reader = ProximityReader.fromQr(verifierFor(received.report), session.qrUri())
        val wanted = listOf(RequestedElement(doctype, "family_name", false), RequestedElement(doctype, "expiry_date", true))
        val request = session.receive(reader.request(doctype, wanted))
        assertFalse(request.terminated)
        assertEquals(doctype, request.documents.single().doctype)
        assertEquals(wanted, request.documents.single().elements)
        assertNull(request.documents.single().readerName)

        val report = reader.receive(session.respond())
        assertTrue(report.valid, report.toString())
        assertEquals("mdoc", report.format)
        assertTrue(report.claimsJson.contains("\"family_name\":\"Smith\""), report.claimsJson)
        assertTrue(report.claimsJson.contains("\"expiry_date\""), report.claimsJson)
        assertFalse(report.claimsJson.contains("given_name"), report.claimsJson)
        assertFalse(report.claimsJson.contains("licence_number"), report.claimsJson)
        assertTrue(session.receive(reader.terminate()).terminated)
    }

    @Test
    fun aThrowingKeyStoreIsATypedError() = runBlocking {
        val keys = FailingKeyStore()
        val wallet = Wallet.open(dbPath("failing"), KtKeyProtector(), keys, KtHttp())
        val e = assertThrows<GovcredException.Failed> { runBlocking { wallet.receiveOffer(offer("ExamplePid")) } }
        assertEquals(ErrorCode.SIGNER_FAILED, e.code)
        assertTrue(e.detail.contains("StrongBox unavailable"), e.detail)
        assertTrue(keys.keys.isEmpty())
        assertTrue(wallet.list().isEmpty())
    }

    @Test
    fun answersAnOpenid4vpRequest() = runBlocking {
        val wallet = Wallet.open(dbPath("vp"), KtKeyProtector(), KtKeyStore(), KtHttp())
        val received = wallet.receiveOffer(offer("ExamplePid"))
        val id = received.id!!
        val cb = "https://rp.example.gov.uk/cb"
        val query = """{"credentials":[{"id":"pid","format":"dc+sd-jwt","meta":{"vct_values":["urn:example:govcred:pid:1"]},"claims":[{"path":["birthdate"]}]}]}"""
        val session = Openid4vpSession("redirect_uri:$cb", cb, query)
        val request = session.requestJson()

        val match = wallet.openid4vpMatch(request)
        assertEquals(cb, match.responseUri)
        val candidate = match.queries.single().candidates.single()
        assertEquals(id, candidate.credentialId)
        assertEquals(listOf("birthdate"), candidate.disclose)

        val response = wallet.openid4vpRespond(request, listOf(Openid4vpChoice("pid", id)))
        val report = session.check(verifierFor(received.report), response.form).single()
        assertTrue(report.valid, report.toString())
        assertTrue(report.claimsJson.contains("\"birthdate\":\"1970-01-01\""), report.claimsJson)
        assertFalse(report.claimsJson.contains("given_name"), report.claimsJson)
    }

    @Test
    fun aCancelledReceiveLeavesTheStoreConsistent() = runBlocking {
        val db = dbPath("cancel")
        val keys = KtKeyStore()
        val protector = KtKeyProtector()
        val http = KtHttp(delayMs = 150)
        val wallet = Wallet.open(db, protector, keys, http)
        val link = offer("ExamplePid")
        assertThrows<TimeoutCancellationException> {
            runBlocking { withTimeout(200) { wallet.receiveOffer(link) } }
        }
        // The receive goes on to the end on its own thread: wait for the notification.
        val deadline = System.currentTimeMillis() + 20_000
        while (http.seen.none { it.endsWith("/notification") }) {
            check(System.currentTimeMillis() < deadline) { "the receive did not finish: ${http.seen}" }
            Thread.sleep(50)
        }
        Thread.sleep(200)
        wallet.close()
        // Reopened: the credential is stored exactly once with its device key, and usable.
        val again = Wallet.open(db, protector, keys, KtHttp())
        val card = again.list().single()
        assertEquals(CredentialState.VALID, card.state)
        assertEquals(1, keys.keys.size)
        val vp = again.presentSdJwt(card.id, listOf(), "https://verifier.example.gov.uk", "n")
        assertTrue(vp.count { it == '~' } >= 1)
        // And a wrong protector still gets a typed error, never a crash.
        val e = assertThrows<GovcredException.Failed> { Wallet.open(db, KtKeyProtector(), keys, KtHttp()) }
        assertEquals(ErrorCode.WRONG_KEY, e.code)
    }
}
